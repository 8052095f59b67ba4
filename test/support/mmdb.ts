import { writeFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';

/**
 * Writes a tiny MaxMind DB (format 2.0, https://maxmind.github.io/MaxMind-DB/) for tests, because npm has no writer
 * (MaxMind's own is in Go): an IPv6 tree with 24-bit records, IPv4 networks under ::/96 as MaxMind's readers expect,
 * and a data section of maps, strings and unsigned integers. Tests read it back with the real `maxmind` reader.
 */
export type MmdbValue = string | number | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  cidr: string;
  data: MmdbValue;
}

const MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // \xAB\xCD\xEF + "MaxMind.com"
const RECORD_BYTES = 3;

function control(type: number, size: number): Buffer {
  const head = size < 29 ? size : size < 285 ? 29 : size < 65821 ? 30 : 31;
  const extra = head === 29 ? [size - 29] : head === 30 ? [(size - 285) >> 8, (size - 285) & 0xff] : head === 31 ? [(size - 65821) >> 16, ((size - 65821) >> 8) & 0xff, (size - 65821) & 0xff] : [];
  // Types above 7 are "extended": type 0 in the control byte, the type minus 7 in the next one.
  const bytes = type <= 7 ? [(type << 5) | head] : [head, type - 7];
  return Buffer.from([...bytes, ...extra]);
}

function unsigned(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from(bytes);
}

function encode(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, text.length), text]);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`only uint32 numbers are written, not ${value}`);
    const bytes = unsigned(value);
    return Buffer.concat([control(6, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([key, item]) => [encode(key), encode(item)])]);
}

/** Metadata integers have fixed types (uint16 = 5, uint64 = 9); everything else is written as for data. */
function encodeMetadata(fields: Record<string, MmdbValue>, integerTypes: Record<string, number>): Buffer {
  const entries = Object.entries(fields);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([key, value]) => {
    const type = integerTypes[key];
    if (type === undefined) return [encode(key), encode(value)];
    const bytes = unsigned(value as number);
    return [encode(key), Buffer.concat([control(type, bytes.length), bytes])];
  })]);
}

/** The 128 bits of a network in an IPv6 tree (IPv4 under ::/96), and how many of them count. */
function prefixBits(cidr: string): boolean[] {
  const [address, length] = ipaddr.parseCIDR(cidr);
  const bytes = address.kind() === 'ipv4' ? [...new Array(12).fill(0), ...address.toByteArray()] : address.toByteArray();
  const bits = bytes.flatMap((byte) => [7, 6, 5, 4, 3, 2, 1, 0].map((shift) => ((byte >> shift) & 1) === 1));
  return bits.slice(0, (address.kind() === 'ipv4' ? 96 : 0) + length);
}

interface TreeNode {
  children: [TreeNode | number | undefined, TreeNode | number | undefined];
}

export function writeMmdb(file: string, databaseType: string, networks: MmdbNetwork[]): void {
  const data: Buffer[] = [];
  let dataLength = 0;
  const root: TreeNode = { children: [undefined, undefined] };
  for (const network of networks) {
    const offset = dataLength;
    const encoded = encode(network.data);
    data.push(encoded);
    dataLength += encoded.length;
    const bits = prefixBits(network.cidr);
    let node = root;
    bits.forEach((bit, depth) => {
      const side = bit ? 1 : 0;
      if (depth === bits.length - 1) {
        node.children[side] = offset; // a data offset: resolved once the node count is known
        return;
      }
      const next = node.children[side];
      if (typeof next === 'number') throw new Error(`${network.cidr} lies inside another network`);
      node = next ?? (node.children[side] = { children: [undefined, undefined] });
    });
  }

  const nodes: TreeNode[] = [];
  for (let queue = [root]; queue.length;) {
    const node = queue.shift() as TreeNode;
    nodes.push(node);
    for (const child of node.children) if (typeof child === 'object') queue.push(child);
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * RECORD_BYTES * 2);
  nodes.forEach((node, index) => node.children.forEach((child, side) => {
    // A node's number; node_count for "no data"; node_count + 16 + offset for data (the 16 bytes of separator).
    const record = child === undefined ? nodeCount : typeof child === 'number' ? nodeCount + 16 + child : nodes.indexOf(child);
    tree.writeUIntBE(record, (index * 2 + side) * RECORD_BYTES, RECORD_BYTES);
  }));

  const metadata = encodeMetadata({
    node_count: nodeCount, record_size: RECORD_BYTES * 8, ip_version: 6, database_type: databaseType, languages: ['en'],
    binary_format_major_version: 2, binary_format_minor_version: 0, build_epoch: Math.floor(Date.now() / 1000),
    description: { en: 'Gatehouse test database' },
  }, { record_size: 5, ip_version: 5, binary_format_major_version: 5, binary_format_minor_version: 5, build_epoch: 9 });
  writeFileSync(file, Buffer.concat([tree, Buffer.alloc(16), ...data, MARKER, metadata]));
}
