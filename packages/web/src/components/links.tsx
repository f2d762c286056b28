/**
 * Mantine components as type-safe router links: `to`, `params` and `search` are checked against the
 * route tree. Use these instead of `component={Link}` when a link has params or search.
 *
 * @example
 * <ButtonLink to="/runs/$runId" params={{ runId }}>Open</ButtonLink>
 */
import { Anchor, type AnchorProps, Button, type ButtonProps } from '@mantine/core';
import { createLink } from '@tanstack/react-router';
import { type AnchorHTMLAttributes, forwardRef } from 'react';

const MantineAnchor = forwardRef<HTMLAnchorElement, AnchorProps & AnchorHTMLAttributes<HTMLAnchorElement>>(
  (props, ref) => <Anchor component="a" ref={ref} {...props} />,
);
const MantineButtonAnchor = forwardRef<HTMLAnchorElement, ButtonProps & AnchorHTMLAttributes<HTMLAnchorElement>>(
  (props, ref) => <Button component="a" ref={ref} {...props} />,
);

export const AnchorLink = createLink(MantineAnchor);
export const ButtonLink = createLink(MantineButtonAnchor);
