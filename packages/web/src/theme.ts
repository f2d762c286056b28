/**
 * The console's theme. Contrast is chosen for WCAG AA (the e2e journeys run axe-core on every page):
 * dimmed text darker than Mantine's default, filled colours that pick black or white text by luminance,
 * light/outline badge and button text in a dark shade (cssVariablesResolver), underlined links, and a
 * name on every notification's close button.
 */
import { Anchor, type CSSVariablesResolver, createTheme, Notification } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'blue',
  // Shade 8 in the light scheme: links and white button text on it reach 4.5:1 (shade 6 is 3.5:1).
  primaryShade: { light: 8, dark: 8 },
  // Filled colours lighter than this get black text: at 0.18 either black or white reaches 4.5:1.
  autoContrast: true,
  luminanceThreshold: 0.18,
  defaultRadius: 'md',
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  // Visible focus for keyboard users everywhere.
  focusRing: 'auto',
  components: {
    // Links inside text must not rely on colour alone.
    Anchor: Anchor.extend({ defaultProps: { underline: 'always' } }),
    Notification: Notification.extend({
      defaultProps: { closeButtonProps: { 'aria-label': 'Close notification' } },
      // Mantine's gray 6 under a title is 3.3:1; the dimmed colour above is 8:1.
      styles: { description: { color: 'var(--mantine-color-dimmed)' } },
    }),
  },
});

/**
 * Light scheme: dimmed text in gray 7 (8:1 on white; Mantine's gray 6 is 3.3:1), and the text of light
 * and outline variants (badges, light buttons, the active navigation entry) in the colour's shade 9
 * darkened by a third, which reads at 4.5:1 or more on its tinted background for every colour, yellow too.
 * Coloured text (`<Text c="red">`, `c="teal"`) takes the same dark shade: Mantine draws it in the
 * filled shade, which is under 4.5:1 on white for red, teal, green, orange and yellow.
 */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    ...Object.fromEntries(
      Object.keys(t.colors).flatMap((c) => {
        const dark = `color-mix(in srgb, var(--mantine-color-${c}-9) 70%, black)`;
        return [
          [`--mantine-color-${c}-light-color`, dark],
          [`--mantine-color-${c}-outline`, dark],
          [`--mantine-color-${c}-text`, dark],
        ];
      }),
    ),
  },
  dark: {},
});
