/** Where the signed-in API key lives in the browser. */
export const API_KEY_STORAGE_KEY = 'echelon.apiKey';

export function readStoredApiKey(): string | null {
  try {
    const value = window.localStorage.getItem(API_KEY_STORAGE_KEY);
    return value?.trim() ? value : null;
  } catch {
    // Storage can be unavailable (privacy modes); behave as signed out.
    return null;
  }
}

export function storeApiKey(apiKey: string): void {
  window.localStorage.setItem(API_KEY_STORAGE_KEY, apiKey);
}

export function clearStoredApiKey(): void {
  try {
    window.localStorage.removeItem(API_KEY_STORAGE_KEY);
  } catch {
    // Nothing stored that we could remove.
  }
}
