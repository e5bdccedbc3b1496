// A MongoDB stand-in on loopback for the processes under test: enough of
// the wire protocol (OP_QUERY and OP_MSG, BSON) for libmongoc to take it
// for a standalone server, an empty one: every read finds nothing, every
// write changes nothing.  A test sees each command as it comes (its name,
// collection, filter) and may hold one's answer until it lets it go.
//
//   const mongo = await startMongoStandin({
//       hold: (cmd) => cmd.find === 'orgs' });   // held until released
//   mongo.uri('inbox')       the --store URI
//   mongo.commands           every command so far, oldest first
//   await mongo.held()       the next held command: { cmd, release() }
//   mongo.close()

import { createServer } from 'node:net';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

// A BSON ObjectId, as the stand-in reads and writes it.
export class ObjectId {
    constructor(hex) {
        this.hex = hex;
    }

    toString() {
        return this.hex;
    }
}

function cstring(buf, at) {
    const end = buf.indexOf(0, at);
    return [buf.toString('utf8', at, end), end + 1];
}

// The document at buf[at]: [value, the offset after it].
function decodeDoc(buf, at, asArray = false) {
    const size = buf.readInt32LE(at);
    const end = at + size - 1;
    const out = asArray ? [] : {};
    let p = at + 4;
    while (p < end) {
        const type = buf[p];
        let name;
        [name, p] = cstring(buf, p + 1);
        let value;
        switch (type) {
        case 0x01: value = buf.readDoubleLE(p); p += 8; break;
        case 0x02: case 0x0d: case 0x0e: {
            const n = buf.readInt32LE(p);
            value = buf.toString('utf8', p + 4, p + 4 + n - 1);
            p += 4 + n;
            break;
        }
        case 0x03: [value, p] = decodeDoc(buf, p); break;
        case 0x04: [value, p] = decodeDoc(buf, p, true); break;
        case 0x05: {
            const n = buf.readInt32LE(p);
            value = buf.subarray(p + 5, p + 5 + n);
            p += 5 + n;
            break;
        }
        case 0x06: case 0x0a: case 0x7f: case 0xff: value = null; break;
        case 0x07: value = new ObjectId(buf.toString('hex', p, p + 12));
            p += 12; break;
        case 0x08: value = buf[p] !== 0; p += 1; break;
        case 0x09: value = new Date(Number(buf.readBigInt64LE(p))); p += 8;
            break;
        case 0x0b: { let re; [re, p] = cstring(buf, p); [, p] = cstring(buf, p);
            value = re; break; }
        case 0x10: value = buf.readInt32LE(p); p += 4; break;
        case 0x11: case 0x12: value = buf.readBigInt64LE(p); p += 8; break;
        case 0x13: value = buf.subarray(p, p + 16); p += 16; break;
        default: throw new Error(`BSON type ${type} is not read here`);
        }
        if (asArray) {
            out.push(value);
        } else {
            out[name] = value;
        }
    }
    return [out, at + size];
}

function element(name, value) {
    const key = Buffer.from(`${name}\0`);
    const typed = (type, body) => Buffer.concat([Buffer.from([type]), key,
                                                 body]);
    if (value === null || value === undefined) {
        return typed(0x0a, Buffer.alloc(0));
    }
    if (typeof value === 'boolean') {
        return typed(0x08, Buffer.from([value ? 1 : 0]));
    }
    if (typeof value === 'bigint') {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(value);
        return typed(0x12, b);
    }
    if (typeof value === 'number') {
        if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) {
            const b = Buffer.alloc(4);
            b.writeInt32LE(value);
            return typed(0x10, b);
        }
        const b = Buffer.alloc(8);
        b.writeDoubleLE(value);
        return typed(0x01, b);
    }
    if (typeof value === 'string') {
        const s = Buffer.from(`${value}\0`);
        const n = Buffer.alloc(4);
        n.writeInt32LE(s.length);
        return typed(0x02, Buffer.concat([n, s]));
    }
    if (value instanceof ObjectId) {
        return typed(0x07, Buffer.from(value.hex, 'hex'));
    }
    if (value instanceof Date) {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(value.getTime()));
        return typed(0x09, b);
    }
    if (Array.isArray(value)) {
        return typed(0x04, encodeDoc(Object.fromEntries(
            value.map((v, i) => [String(i), v]))));
    }
    return typed(0x03, encodeDoc(value));
}

export function encodeDoc(doc) {
    const body = Buffer.concat(Object.entries(doc).map(([k, v]) =>
        element(k, v)));
    const size = Buffer.alloc(4);
    size.writeInt32LE(body.length + 5);
    return Buffer.concat([size, body, Buffer.from([0])]);
}

function message(requestId, responseTo, opCode, body) {
    const head = Buffer.alloc(16);
    head.writeInt32LE(16 + body.length, 0);
    head.writeInt32LE(requestId, 4);
    head.writeInt32LE(responseTo, 8);
    head.writeInt32LE(opCode, 12);
    return Buffer.concat([head, body]);
}

// The command a request carries, its OP_MSG document sequences folded in.
function readCommand(opCode, buf) {
    if (opCode === OP_QUERY) {
        let p = 20;
        [, p] = cstring(buf, p);
        return decodeDoc(buf, p + 8)[0];
    }
    const flags = buf.readUInt32LE(16);
    const end = buf.length - (flags & 1 ? 4 : 0);
    let cmd = {};
    let p = 20;
    while (p < end) {
        const kind = buf[p++];
        if (kind === 0) {
            [cmd, p] = decodeDoc(buf, p);
            continue;
        }
        const size = buf.readInt32LE(p);
        const stop = p + size;
        let name;
        let q;
        [name, q] = cstring(buf, p + 4);
        const docs = [];
        while (q < stop) {
            let doc;
            [doc, q] = decodeDoc(buf, q);
            docs.push(doc);
        }
        cmd[name] = docs;
        p = stop;
    }
    return cmd;
}

const commandName = (cmd) => Object.keys(cmd)[0];

// What an empty standalone server answers.
function answer(cmd, connectionId) {
    const name = commandName(cmd);
    const db = cmd.$db ?? 'admin';
    switch (name.toLowerCase()) {
    case 'hello':
    case 'ismaster':
        return { helloOk: true, ismaster: true, isWritablePrimary: true,
                 maxBsonObjectSize: 16 * 1024 * 1024,
                 maxMessageSizeBytes: 48000000, maxWriteBatchSize: 100000,
                 localTime: new Date(), logicalSessionTimeoutMinutes: 30,
                 connectionId, minWireVersion: 0, maxWireVersion: 13,
                 readOnly: false, ok: 1 };
    case 'find':
    case 'aggregate':
    case 'listindexes':
    case 'listcollections':
        return { cursor: { id: 0n, ns: `${db}.${cmd[name]}`,
                           firstBatch: [] }, ok: 1 };
    case 'getmore':
        return { cursor: { id: 0n, ns: `${db}.${cmd.collection}`,
                           nextBatch: [] }, ok: 1 };
    case 'insert':
        return { n: (cmd.documents ?? []).length, ok: 1 };
    case 'update':
        return { n: 0, nModified: 0, ok: 1 };
    case 'delete':
        return { n: 0, ok: 1 };
    case 'findandmodify':
        return { lastErrorObject: { n: 0, updatedExisting: false },
                 value: null, ok: 1 };
    case 'count':
        return { n: 0, ok: 1 };
    default:
        return { ok: 1 };
    }
}

export async function startMongoStandin({ hold = () => false } = {}) {
    const commands = [];
    const sockets = new Set();
    const heldQueue = [];
    const waiters = [];
    let nextConnection = 1;
    let nextRequest = 1;

    const server = createServer((socket) => {
        const connectionId = nextConnection++;
        let pending = Buffer.alloc(0);
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
        socket.on('data', (chunk) => {
            pending = Buffer.concat([pending, chunk]);
            while (pending.length >= 4
                   && pending.length >= pending.readInt32LE(0)) {
                const size = pending.readInt32LE(0);
                const buf = pending.subarray(0, size);
                pending = pending.subarray(size);
                serve(socket, buf, connectionId);
            }
        });
    });

    function serve(socket, buf, connectionId) {
        const requestId = buf.readInt32LE(4);
        const opCode = buf.readInt32LE(12);
        const cmd = readCommand(opCode, buf);
        const send = () => {
            if (socket.destroyed) {
                return;
            }
            const doc = encodeDoc(answer(cmd, connectionId));
            let body;
            let op;
            if (opCode === OP_QUERY) {
                const head = Buffer.alloc(20);
                head.writeInt32LE(1, 16);       /* numberReturned */
                body = Buffer.concat([head, doc]);
                op = OP_REPLY;
            } else {
                body = Buffer.concat([Buffer.alloc(4), Buffer.from([0]),
                                      doc]);
                op = OP_MSG;
            }
            socket.write(message(nextRequest++, requestId, op, body));
        };

        const name = commandName(cmd).toLowerCase();
        if (name !== 'hello' && name !== 'ismaster') {
            commands.push(cmd);
        }
        if (name !== 'hello' && name !== 'ismaster' && hold(cmd)) {
            const held = { cmd, release: send };
            const waiter = waiters.shift();
            if (waiter) {
                waiter(held);
            } else {
                heldQueue.push(held);
            }
            return;
        }
        send();
    }

    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address();

    return {
        port,
        commands,
        uri: (db) => `mongodb://127.0.0.1:${port}/${db}`,
        held: () => new Promise((ok) => {
            const held = heldQueue.shift();
            if (held) {
                ok(held);
            } else {
                waiters.push(ok);
            }
        }),
        close() {
            for (const socket of sockets) {
                socket.destroy();
            }
            server.close();
        },
    };
}
