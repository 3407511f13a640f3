// A typed value to XML elements, in the schema's element order, with xsi:type wherever the value's
// type is not the one the schema declares (a subtype, or anything in an anyType position).
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { allFields, isKnownType, isSubtypeOf, PRIMITIVES, type FieldDef } from './schema';
import { NS } from './xml';

export class EncodeError extends Error {}

const INTEGER_RANGES: Record<string, readonly [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  int: [-2147483648, 2147483647],
  long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Writes `value`'s fields as children of `parent` (a request element or a data object's element). */
export function encodeFields(parent: XMLBuilder, typeName: string, value: Record<string, unknown>, path: string): void {
  const known = allFields(typeName);
  for (const key of Object.keys(value)) {
    if (key !== '_type' && value[key] !== undefined && !known.some((f) => f.name === key)) {
      throw new EncodeError(`${path}: ${typeName} has no element '${key}' here`);
    }
  }
  for (const field of known) {
    const fieldValue = value[field.name];
    if (fieldValue === undefined) continue;
    if (field.array) {
      if (!Array.isArray(fieldValue)) throw new EncodeError(`${path}.${field.name}: expected a list`);
      fieldValue.forEach((item, i) => encodeElement(parent, field, item, `${path}.${field.name}[${i}]`));
    } else {
      encodeElement(parent, field, fieldValue, `${path}.${field.name}`);
    }
  }
}

function encodeElement(parent: XMLBuilder, field: FieldDef, value: unknown, path: string): void {
  const element = parent.ele(NS.vim25, field.name);
  if (field.type === 'anyType') {
    encodeAny(element, value, path);
  } else if (field.type === 'ManagedObjectReference') {
    encodeReference(element, value, path);
  } else if (PRIMITIVES.has(field.type)) {
    element.txt(primitiveText(field.type, value, path));
  } else {
    encodeObject(element, field.type, value, path);
  }
}

function encodeObject(element: XMLBuilder, declared: string, value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EncodeError(`${path}: expected a ${declared} object`);
  }
  const record = value as Record<string, unknown>;
  const actual = typeof record._type === 'string' ? record._type : declared;
  if (!isKnownType(actual)) throw new EncodeError(`${path}: unknown type '${actual}'`);
  if (!isSubtypeOf(actual, declared)) throw new EncodeError(`${path}: a ${actual} is not a ${declared}`);
  if (actual !== declared) element.att(NS.xsi, 'xsi:type', actual);
  encodeFields(element, actual, record, path);
}

function encodeReference(element: XMLBuilder, value: unknown, path: string): void {
  const ref = value as { type?: unknown; value?: unknown } | null;
  if (typeof ref?.type !== 'string' || typeof ref.value !== 'string') {
    throw new EncodeError(`${path}: expected a ManagedObjectReference { type, value }`);
  }
  element.att('type', ref.type).txt(ref.value);
}

/** anyType: strings and booleans as xsd:string and xsd:boolean, references and data objects by their type. */
function encodeAny(element: XMLBuilder, value: unknown, path: string): void {
  if (typeof value === 'string') {
    element.att(NS.xsi, 'xsi:type', 'xsd:string').txt(value);
  } else if (typeof value === 'boolean') {
    element.att(NS.xsi, 'xsi:type', 'xsd:boolean').txt(String(value));
  } else if (isReference(value)) {
    element.att(NS.xsi, 'xsi:type', 'ManagedObjectReference');
    encodeReference(element, value, path);
  } else if (typeof value === 'object' && value !== null && typeof (value as { _type?: unknown })._type === 'string') {
    const actual = (value as { _type: string })._type;
    if (!isKnownType(actual)) throw new EncodeError(`${path}: unknown type '${actual}'`);
    element.att(NS.xsi, 'xsi:type', actual);
    encodeFields(element, actual, value as Record<string, unknown>, path);
  } else {
    // A bare number could be byte, short, int or long on the wire: the caller must say which.
    throw new EncodeError(`${path}: an anyType value must be a string, a boolean, a reference or an object with _type`);
  }
}

function isReference(value: unknown): value is { type: string; value: string } {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value).sort().join(',');
  return keys === 'type,value';
}

function primitiveText(type: string, value: unknown, path: string): string {
  const range = INTEGER_RANGES[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw new EncodeError(`${path}: expected an xsd:${type} (an integer from ${range[0]} to ${range[1]})`);
    }
    return String(value);
  }
  switch (type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new EncodeError(`${path}: expected a boolean`);
      return String(value);
    case 'float':
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new EncodeError(`${path}: expected a number`);
      return String(value);
    case 'dateTime':
      if (value instanceof Date) return value.toISOString();
      if (typeof value !== 'string') throw new EncodeError(`${path}: expected an ISO date and time`);
      return value;
    default:
      if (typeof value !== 'string') throw new EncodeError(`${path}: expected a string`);
      return value;
  }
}
