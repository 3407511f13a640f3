// SOAP 1.1 envelopes for vim25: a method call's request body, and its response read back as the
// method's return value, a typed fault, or a clear error when the answer is not SOAP at all.
import { create } from 'xmlbuilder2';
import { DecodeError, decodeValue } from './decode';
import { encodeFields } from './encode';
import { SoapFault } from './fault';
import type { MethodFault } from './types';
import { child, MalformedXmlError, NS, parseXml, type XmlElement } from './xml';

export interface MethodCall {
  /** The method's name as the WSDL has it: `RebootHost_Task`. */
  readonly method: string;
  /** Its request type in schema.ts: `RebootHostRequestType`. */
  readonly requestType: string;
  /** The request's elements, `_this` first. */
  readonly args: Readonly<Record<string, unknown>>;
  /** What `returnval` holds; absent for a method that returns nothing. */
  readonly returns?: { readonly type: string; readonly array?: boolean };
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Sends a method call and gives back its decoded return value (a session, or a recorder in tests). */
export interface RoundTripper {
  roundTrip(call: MethodCall, options?: CallOptions): Promise<unknown>;
}

/** The answer was not a SOAP envelope (an HTML error page, a proxy's reply, a cut-off body). */
export class SoapProtocolError extends Error {
  override name = 'SoapProtocolError';

  constructor(
    readonly method: string,
    readonly status: number,
    readonly contentType: string,
    reason: string,
  ) {
    super(`${method}: HTTP ${status} (${contentType || 'no content type'}): ${reason}`);
  }
}

export function buildRequest(call: MethodCall): string {
  const document = create({ version: '1.0', encoding: 'UTF-8' });
  const body = document
    .ele(NS.soapenv, 'soapenv:Envelope')
    .att('http://www.w3.org/2000/xmlns/', 'xmlns:xsd', NS.xsd)
    .att('http://www.w3.org/2000/xmlns/', 'xmlns:xsi', NS.xsi)
    .ele(NS.soapenv, 'soapenv:Body');
  encodeFields(body.ele(NS.vim25, call.method), call.requestType, call.args, call.method);
  return document.end({ prettyPrint: false, wellFormed: true });
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The call's return value; a SOAP fault throws SoapFault, anything but a SOAP answer SoapProtocolError. */
export function parseResponse(call: MethodCall, answer: HttpAnswer): unknown {
  const fail = (reason: string) => new SoapProtocolError(call.method, answer.status, answer.contentType, reason);
  if (!/\bxml\b/i.test(answer.contentType)) throw fail(`not a SOAP response (${answer.body.length} bytes)`);
  if (/<!DOCTYPE/i.test(answer.body)) throw fail('a document with a DOCTYPE is not a SOAP response');
  let envelope: XmlElement;
  try {
    envelope = parseXml(answer.body);
  } catch (error) {
    if (error instanceof MalformedXmlError) throw fail(`malformed or truncated XML (${answer.body.length} bytes): ${error.message}`);
    throw error;
  }
  const body = envelope.name === 'Envelope' ? child(envelope, 'Body') : undefined;
  const content = body?.children[0];
  if (!content) throw fail('no SOAP envelope with a body');
  if (content.name === 'Fault') throw faultOf(call.method, content);
  if (answer.status !== 200) throw fail('an error status without a SOAP fault');
  if (content.name !== `${call.method}Response`) throw fail(`expected ${call.method}Response, got ${content.name}`);
  if (!call.returns) return undefined;
  let values: unknown[];
  try {
    values = content.children.filter((c) => c.name === 'returnval').map((c) => decodeValue(c, call.returns!.type));
  } catch (error) {
    if (error instanceof DecodeError) throw fail(`a response that does not fit the schema: ${error.message}`);
    throw error;
  }
  if (!call.returns.array && values.length > 1) throw fail(`${values.length} returnval elements where ${call.method} returns one`);
  return call.returns.array ? values : values[0];
}

function faultOf(method: string, fault: XmlElement): SoapFault {
  const text = (name: string) => child(fault, name)?.text.trim() ?? '';
  const detail = child(fault, 'detail')?.children[0];
  let typed: MethodFault | undefined;
  if (detail) {
    const decoded = decodeValue(detail, 'MethodFault');
    typed = typeof decoded === 'object' && decoded !== null ? (decoded as MethodFault) : {};
    // ESXi and vCenter name the detail `<InvalidLoginFault xsi:type="InvalidLogin">`; without xsi:type the name says it.
    typed._type ??= detail.name.replace(/Fault$/, '');
  }
  return new SoapFault(method, text('faultcode'), text('faultstring'), typed);
}
