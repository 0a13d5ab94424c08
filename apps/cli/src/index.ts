export { runCli } from './main.js';
export { EXIT } from './cli-errors.js';
