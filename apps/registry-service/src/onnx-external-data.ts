/**
 * Finds the external-data locations an ONNX model refers to, by walking its protobuf encoding
 * (onnx.proto3): every TensorProto reachable from the model (graph initializers, sparse
 * initializers, node attributes, subgraphs, functions, training graphs) and its
 * `external_data` entries whose key is `location`. No onnx library is needed for this.
 */

type Kind =
  | 'model'
  | 'graph'
  | 'node'
  | 'attribute'
  | 'tensor'
  | 'sparse'
  | 'function'
  | 'training'
  | 'entry';

// field number → message kind, for the fields that lead to tensors.
const FIELDS: Record<Kind, Readonly<Record<number, Kind>>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  training: { 1: 'graph', 2: 'graph' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  function: { 7: 'node' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  tensor: { 13: 'entry' },
  entry: {},
};

export class OnnxParseError extends Error {}

/** Every `location` of every tensor stored outside the model file, in file order. */
export function externalDataLocations(bytes: Uint8Array): string[] {
  const locations: string[] = [];
  walk(bytes, 0, bytes.length, 'model', locations, 0);
  return locations;
}

/** Why a location is unsafe (absolute, or leaving the model's folder), or undefined when it is not. */
export function locationEscape(location: string): string | undefined {
  if (location === '') return 'is empty';
  if (location.includes('\0')) return 'contains a NUL byte';
  if (/^([a-zA-Z]:)?[\\/]/.test(location)) return 'is an absolute path';
  if (location.split(/[\\/]+/).includes('..')) return "leaves the model's folder (..)";
  return undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function walk(
  buf: Uint8Array,
  start: number,
  end: number,
  kind: Kind,
  out: string[],
  depth: number,
): void {
  if (depth > 64) throw new OnnxParseError('nesting deeper than 64 levels');
  let pos = start;
  let key = '';
  let value = '';
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end) throw new OnnxParseError('truncated varint');
      const byte = buf[pos++]!;
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new OnnxParseError('varint longer than 10 bytes');
    }
  };
  while (pos < end) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (wire) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = varint();
        const next = pos + length;
        if (next > end) throw new OnnxParseError('length-delimited field runs past its message');
        const child = FIELDS[kind][field];
        if (child) walk(buf, pos, next, child, out, depth + 1);
        else if (kind === 'entry' && field === 1) key = decoder.decode(buf.subarray(pos, next));
        else if (kind === 'entry' && field === 2) value = decoder.decode(buf.subarray(pos, next));
        pos = next;
        break;
      }
      default:
        throw new OnnxParseError(`unsupported wire type ${wire}`);
    }
    if (pos > end) throw new OnnxParseError('field runs past its message');
  }
  if (kind === 'entry' && key === 'location') out.push(value);
}
