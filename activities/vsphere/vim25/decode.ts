// XML elements to typed values, led by the schema (and by xsi:type where the server gives one): the
// declared repeated elements become arrays even with one item, numbers and booleans are converted.
// A subtype not in the schema is read as the type the schema declares there, its extra elements
// without typing: text as strings, repeated names as arrays, an element with a `type` attribute
// and text as a ManagedObjectReference. `_type` keeps the xsi:type the server gave.
import type { ManagedObjectReference } from './types';
import { allFields, isKnownType, PRIMITIVES } from './schema';
import type { XmlElement } from './xml';

export class DecodeError extends Error {}

/** The value of `element` read as `declared` (a primitive, `ManagedObjectReference`, `anyType` or a type name). */
export function decodeValue(element: XmlElement, declared: string): unknown {
  const type = element.xsiType ?? declared;
  if (type.startsWith('ArrayOf')) return decodeArrayOf(element, type.slice('ArrayOf'.length));
  if (type === 'ManagedObjectReference') return decodeReference(element);
  if (PRIMITIVES.has(type)) return decodePrimitive(type, element.text, element.name);
  if (type === 'anyType') return decodeUntyped(element);
  // A subtype this schema lacks (VirtualKeyboard for a VirtualDevice) is read as its declared base type.
  if (!isKnownType(type)) return isKnownType(declared) ? decodeObject(element, declared) : decodeUntyped(element);
  return decodeObject(element, type);
}

function decodeObject(element: XmlElement, type: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (element.xsiType) result._type = element.xsiType;
  const fields = allFields(type);
  for (const item of element.children) {
    const field = fields.find((f) => f.name === item.name);
    const value = field ? decodeValue(item, field.type) : decodeUntyped(item);
    if (field?.array) {
      ((result[item.name] ??= []) as unknown[]).push(value);
    } else if (field && item.name in result) {
      // A field the schema says is one value, given twice: which one is meant cannot be known.
      throw new DecodeError(`<${item.name}> of ${type} appears twice; the schema allows one`);
    } else {
      addUntyped(result, item.name, value);
    }
  }
  return result;
}

/** `ArrayOfString`, `ArrayOfManagedObjectReference`, `ArrayOfHostPciPassthruInfo`: one child per item. */
function decodeArrayOf(element: XmlElement, itemType: string): unknown[] {
  const declared = itemType === 'String' ? 'string'
    : ['Int', 'Long', 'Short', 'Byte', 'Boolean', 'Double', 'Float', 'DateTime'].includes(itemType)
      ? itemType[0].toLowerCase() + itemType.slice(1)
      : itemType === 'AnyType' ? 'anyType' : itemType;
  return element.children.map((item) => decodeValue(item, declared));
}

function decodeReference(element: XmlElement): ManagedObjectReference {
  const type = element.attributes.type;
  if (type === undefined) throw new DecodeError(`<${element.name}>: a ManagedObjectReference without its type`);
  return { type, value: element.text.trim() };
}

function decodePrimitive(type: string, text: string, name: string): unknown {
  switch (type) {
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw new DecodeError(`<${name}>: not an xsd:boolean`);
    case 'byte':
    case 'short':
    case 'int':
    case 'long':
    case 'float':
    case 'double': {
      const number = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(number)) throw new DecodeError(`<${name}>: not an xsd:${type}`);
      return number;
    }
    default:
      return text;
  }
}

function decodeUntyped(element: XmlElement): unknown {
  if (element.children.length === 0) {
    // xsi:type names an enum (`<val xsi:type="ManagedEntityStatus">gray</val>`) or, with no text, an
    // empty complex value (`<fault xsi:type="InvalidLogin"/>`).
    if (element.xsiType !== undefined) return element.text.trim() ? element.text : { _type: element.xsiType };
    if (element.attributes.type !== undefined) return decodeReference(element);
    return element.text;
  }
  const result: Record<string, unknown> = {};
  if (element.xsiType) result._type = element.xsiType;
  for (const item of element.children) addUntyped(result, item.name, decodeValue(item, 'anyType'));
  return result;
}

function addUntyped(result: Record<string, unknown>, name: string, value: unknown): void {
  const existing = result[name];
  if (existing === undefined) result[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else result[name] = [existing, value];
}
