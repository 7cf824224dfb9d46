export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[] | NamedList;

/** A list whose members are not `<item>`: a few EC2 shapes name them (`<groupSet><groupId>sg-…</groupId>`). */
export class NamedList {
  constructor(
    readonly itemName: string,
    readonly items: XmlValue[],
  ) {}
}
export interface XmlObject {
  [name: string]: XmlValue;
}

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** EC2 renders every list as `<name><item>…</item>…</name>`; `undefined`/`null` members are left out. */
function write(out: string[], name: string, value: XmlValue): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value) || value instanceof NamedList) {
    const [itemName, items] = value instanceof NamedList ? [value.itemName, value.items] : ['item', value];
    if (items.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const item of items) write(out, itemName, item);
    out.push(`</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const key of Object.keys(value)) write(out, key, value[key]);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`);
}

export function renderResponse(action: string, requestId: string, body: XmlObject): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', `<${action}Response xmlns="${EC2_XMLNS}">`];
  write(out, 'requestId', requestId);
  for (const key of Object.keys(body)) write(out, key, body[key]);
  out.push(`</${action}Response>`);
  return out.join('');
}

export function renderError(code: string, message: string, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors>` +
    `<RequestID>${requestId}</RequestID></Response>`
  );
}

/** EC2 timestamps: ISO 8601 with milliseconds, UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
