import { createTheme } from '@mantine/core';

/** One theme for the console: blue actions, colours chosen for WCAG AA contrast on white. */
export const consoleTheme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  defaultRadius: 'sm',
});
