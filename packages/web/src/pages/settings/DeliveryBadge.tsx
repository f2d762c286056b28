/** The state of one delivery (webhook or email), the same colour everywhere. */
import { Badge } from '@mantine/core';

export function DeliveryBadge({ status }: { status: string }) {
  const color = status === 'delivered' || status === 'sent' ? 'teal' : status === 'failed' ? 'red' : 'gray';
  return (
    <Badge color={color} variant="light">
      {status}
    </Badge>
  );
}
