/**
 * A pretend shop for the examples: orders to look up and a payment provider to refund through. Nothing
 * leaves the process; the refund is what the hub guards.
 */
export interface Order {
  order_id: string;
  customer: string;
  email: string;
  item: string;
  total_usd: number;
  status: 'delivered' | 'shipped';
}

const orders: Record<string, Order> = {
  'A-1': {
    order_id: 'A-1',
    customer: 'Dana Reyes',
    email: 'dana@example.test',
    item: 'Blender Pro 900',
    total_usd: 250,
    status: 'delivered',
  },
  'A-1001': {
    order_id: 'A-1001',
    customer: 'Sam Okafor',
    email: 'sam@example.test',
    item: 'Espresso machine',
    total_usd: 250,
    status: 'delivered',
  },
  'A-2002': {
    order_id: 'A-2002',
    customer: 'Lee Park',
    email: 'lee@example.test',
    item: 'Kettle',
    total_usd: 40,
    status: 'shipped',
  },
};

export function lookupOrder(orderId: string): Order | null {
  return orders[orderId] ?? null;
}

let refunds = 0;
export function issueRefund(orderId: string, amount: number): { refund_id: string; order_id: string; amount: number } {
  const order = orders[orderId];
  if (!order) throw new Error(`no order ${orderId}`);
  if (amount > order.total_usd) throw new Error(`refund of ${amount} exceeds the order total ${order.total_usd}`);
  return { refund_id: `re_${++refunds}`, order_id: orderId, amount };
}
