/**
 * Server-side settings of the web app. Read at request time (the caller must be rendering dynamically), so that
 * one build can be promoted through environments with different API URLs.
 */
export function readConfiguredApiUrl(): string | null {
  const value = process.env.ECHELON_PUBLIC_API_URL?.trim();
  return value ? value : null;
}
