import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticate, createContext, type RequestContext, type Services } from './context.js';
import { formatError } from './errors.js';
import { createChunksRouter } from './modules/chunks/chunks.router.js';
import { createManifestsRouter } from './modules/chunks/manifests.router.js';
import { createExportsRouter } from './modules/exports/index.js';
import { createRestoresRouter } from './modules/restores/restores.router.js';
import {
  createSessionsRouter,
  SessionSockets,
  sessionCors,
  socketSessionAuthorization,
} from './modules/sessions/index.js';
import { createUploadsRouter } from './modules/uploads/index.js';
import { createRequestBudget } from './query-limits.js';
import { buildEchelonSchema } from './schema.js';
import { createDocumentCache, createSharedSubscribe } from './shared-execution.js';

export interface ApiServer {
  httpServer: http.Server;
  close(): Promise<void>;
}

/** GraphQL over HTTP and graphql-ws on one port, plus tus uploads and a health probe. */
export async function createApiServer(services: Services): Promise<ApiServer> {
  const schema = await buildEchelonSchema();
  // Cost, depth, alias and introspection limits on both transports (docs/api-limits.md).
  const budget = createRequestBudget(schema, services.config, createDocumentCache());
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  // A message no larger than an HTTP body (ws allows 100 MiB): the document cache keeps up to 1000 texts.
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1024 * 1024 });
  // Open connections by API key, so that a revocation (from any API process) closes them at once.
  const socketsByKey = new Map<string, Set<WebSocket>>();
  // And by console session, so that signing out closes them too.
  const sessionSockets = new SessionSockets();
  const stopRevocations = services.hub.onKeyRevoked(({ apiKeyId }) => {
    for (const socket of socketsByKey.get(apiKeyId) ?? []) socket.close(4403, 'Forbidden: API key revoked');
    socketsByKey.delete(apiKeyId);
  });
  const wsCleanup = useServer<Record<string, unknown>, { context?: RequestContext; socket: WebSocket }>(
    {
      schema,
      subscribe: createSharedSubscribe(),
      ...budget.ws,
      // The principal is resolved once per connection.
      onConnect: async (ctx) => {
        const principal = await authenticate(
          services,
          ctx.connectionParams?.authorization ?? socketSessionAuthorization(ctx.extra.request, ctx.connectionParams),
        );
        if (principal === undefined) return false;
        ctx.extra.context = createContext(services, principal);
        if (principal.kind === 'identity') {
          const sockets = socketsByKey.get(principal.apiKeyId) ?? new Set<WebSocket>();
          sockets.add(ctx.extra.socket);
          socketsByKey.set(principal.apiKeyId, sockets);
          ctx.extra.socket.once('close', () => sockets.delete(ctx.extra.socket));
          if (principal.sessionId !== undefined) sessionSockets.track(principal.sessionId, ctx.extra.socket);
        }
        return true;
      },
      context: (ctx) => ctx.extra.context ?? createContext(services, undefined),
      // Subscriptions answer with the same contract codes as HTTP.
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) }
          : undefined,
    },
    wsServer,
  );

  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    introspection: budget.apollo.introspection,
    validationRules: budget.apollo.validationRules,
    // Never a stack trace or a server path in a response, whatever NODE_ENV says.
    includeStacktraceInErrorResponses: false,
    plugins: [
      budget.apollo.plugin,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  // Before CORS: the console's origin may send its session cookie (preflights included).
  app.use(sessionCors);
  app.use(
    cors({
      origin: true,
      credentials: false,
      exposedHeaders: ['Location', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Upload-Metadata'],
    }),
  );
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Before every route that authenticates: the session cookie is accepted in place of Authorization.
  app.use(createSessionsRouter(services, sessionSockets));
  const uploads = await createUploadsRouter(services);
  app.use(uploads.router);
  app.use(createChunksRouter(services));
  app.use(createManifestsRouter(services));
  app.use(createExportsRouter(services));
  app.use(createRestoresRouter(services));
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    budget.httpGate,
    expressMiddleware(apollo, {
      context: async ({ req }) => createContext(services, await authenticate(services, req.headers.authorization)),
    }),
  );
  // A body that is not JSON, too large or in an unknown charset: a GraphQL error, never an HTML stack trace.
  app.use(
    '/graphql',
    (
      error: { status?: number; message?: string },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 400;
      res.status(status).json({
        errors: [
          {
            message: `the request body is not a GraphQL request: ${error.message ?? 'unreadable'}`,
            extensions: { code: 'BAD_USER_INPUT' },
          },
        ],
      });
    },
  );

  return {
    httpServer,
    async close() {
      stopRevocations();
      uploads.intake.close();
      await apollo.stop();
      httpServer.closeAllConnections();
    },
  };
}
