/** Splits a list into consecutive slices of at most `size` items (EC2 calls take bounded id lists). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
