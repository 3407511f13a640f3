// XML in and out through fast-xml-parser (reading, validated first) and xmlbuilder2 (writing):
// this module only turns the parser's ordered output into a small element tree.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const NS = {
  soapenv: 'http://schemas.xmlsoap.org/soap/envelope/',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  vim25: 'urn:vim25',
} as const;

export interface XmlElement {
  /** The local name, without its prefix. */
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, entities decoded. */
  readonly text: string;
  /** The xsi:type attribute's local name (`xsd:string` gives `string`), if any. */
  readonly xsiType?: string;
}

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export class MalformedXmlError extends Error {}

/** The document's root element; a document that is not well-formed XML is refused. */
export function parseXml(text: string): XmlElement {
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    throw new MalformedXmlError(`${verdict.err.msg} (line ${verdict.err.line}, column ${verdict.err.col})`);
  }
  const roots = (parser.parse(text) as Ordered[]).filter((node) => elementName(node) !== undefined);
  if (roots.length !== 1) throw new MalformedXmlError('not one root element');
  return toElement(roots[0], new Map());
}

function elementName(node: Ordered): string | undefined {
  return Object.keys(node).find((key) => key !== ':@' && key !== '#text' && !key.startsWith('?') && !key.startsWith('!'));
}

/** `prefixes` maps each in-scope prefix to its namespace, to find xsi:type whatever its prefix. */
function toElement(node: Ordered, inherited: ReadonlyMap<string, string>): XmlElement {
  const qname = elementName(node) as string;
  const attributes = (node[':@'] ?? {}) as Record<string, string>;
  const prefixes = new Map(inherited);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('xmlns:')) prefixes.set(key.slice(6), value);
  }
  let xsiType: string | undefined;
  for (const [key, value] of Object.entries(attributes)) {
    const [prefix, local] = key.includes(':') ? key.split(':', 2) : [undefined, key];
    if (local === 'type' && prefix !== undefined && prefixes.get(prefix) === NS.xsi) xsiType = localName(value);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of node[qname] as Ordered[]) {
    if ('#text' in child) text += String(child['#text']);
    else if (elementName(child) !== undefined) children.push(toElement(child, prefixes));
  }
  return { name: localName(qname), attributes, children, text, xsiType };
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}
