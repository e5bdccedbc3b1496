#!/usr/bin/python3
"""
The MongoDB store on the wire: what the golden command files cannot show.

Each test starts a replica set of mockupdb servers (Debian's
python3-mockupdb: real sockets, the real wire protocol) that keeps a little
of the data a server would, applies each write once per session and
transaction number as a server does, and can fail on cue: drop the
connection, lose an answer, go silent, step down.  tests/wire/store_op
(libinbox built with ASan and UBSan, through the public store API) runs one
operation against it, and the test checks how it ends: the contract's
status, what was written and how many times.

Prints one line per test and "# N passed, N failed" for tests/run.
"""
import atexit
import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import bson
from bson import ObjectId
from bson.int64 import Int64
from mockupdb import MockupDB

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DRIVER = os.path.join(ROOT, 'build', 'tests', 'wire', 'store_op')

# Twilio gives up on a webhook after 15 s: a 503 must come before that.
CARRIER_PATIENCE_MS = 15000

ORG = ObjectId('64f1a0000000000000000001')
NUMBER = '+15550001111'
PHONE = '+15551230001'
SID = 'SM' + '0123456789abcdef' * 2
SID2 = 'SM' + 'fedcba9876543210' * 2
TOKEN_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'

NOT_WRITABLE_PRIMARY = 10107
DUPLICATE_KEY = 11000

CAMPAIGN = ObjectId('64f1a0000000000000000f01')
USER = ObjectId('64f1a0000000000000000a01')
# The campaigns' clock: noon UTC, outside the organization's quiet hours.
NOON = datetime.datetime(2026, 1, 1, 12, 0)
NOON_MS = '1767268800000'


def _decode_any_date():
    """Ingest's update pipeline compares with the earliest date BSON has
    (INT64_MIN ms) where a thread has no last message yet: a server takes
    it, but the pure-Python decoder of Debian's pymongo 3.11 (which mockupdb
    uses) overflows on it and drops the connection.  Out-of-range dates
    become datetime.min / max here; the fake servers never compare them."""
    to_datetime = bson._millis_to_datetime

    def lenient(millis, opts):
        try:
            return to_datetime(millis, opts)
        except OverflowError:
            if millis < 0:
                return datetime.datetime.min
            return datetime.datetime.max

    bson._millis_to_datetime = lenient


_decode_any_date()


def field(doc, path):
    """The value at path; through an array of documents (a message's
    media), the list of each one's."""
    keys = path.split('.')
    for i, key in enumerate(keys):
        if isinstance(doc, list):
            rest = '.'.join(keys[i:])
            return [field(d, rest) for d in doc if isinstance(d, dict)]
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def present(doc, path):
    """Whether the document holds path, null or not (what $type "null"
    tells from a field missing)."""
    *parents, last = path.split('.')
    for key in parents:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return isinstance(doc, dict) and last in doc


def set_field(doc, path, value):
    """$set's: a dotted path makes the documents on its way."""
    keys = path.split('.')
    for key in keys[:-1]:
        doc = doc.setdefault(key, {})
    doc[keys[-1]] = value


def apply_update(doc, update, inserting):
    """An update document's $set, $inc, $max and $unset (of a top-level
    field), and its $setOnInsert when the update inserts doc: the
    operators the upserts of an import, the contacts' writes and a
    campaign's counts use."""
    for op, fields in update.items():
        if op == '$setOnInsert' and not inserting:
            continue
        if op == '$unset':
            for path in fields:
                doc.pop(path, None)
            continue
        if op not in ('$set', '$setOnInsert', '$inc', '$max'):
            raise AssertionError('the test cannot apply %s' % op)
        for path, value in fields.items():
            if op == '$inc':
                value += field(doc, path) or 0
            if op == '$max' and field(doc, path) is not None:
                value = max(value, field(doc, path))
            set_field(doc, path, value)


def apply_pipeline(doc, stages, now=None):
    """An update pipeline's $set stages with the expressions dispatch's
    start of campaigns and a hold's settlement use: field paths, $$NOW
    (now), constants, $literal and $ifNull."""
    def value(expr):
        if expr == '$$NOW':
            return now
        if isinstance(expr, str) and expr.startswith('$'):
            return field(doc, expr[1:])
        if not isinstance(expr, dict):
            # a constant: what a literal of it would be
            return expr
        if isinstance(expr, dict) and list(expr) == ['$literal']:
            return expr['$literal']
        if isinstance(expr, dict) and list(expr) == ['$ifNull']:
            first, default = expr['$ifNull']
            have = value(first)
            return have if have is not None else value(default)
        raise AssertionError('the test cannot evaluate %r' % (expr,))

    for stage in stages:
        if list(stage) != ['$set']:
            raise AssertionError('the test cannot run %r' % (stage,))
        values = {path: value(e) for path, e in stage['$set'].items()}
        for path, v in values.items():
            set_field(doc, path, v)


def evaluate(doc, expr, now):
    """An aggregation expression of a hold's settlement: field paths,
    $$NOW (now), $lt, $lte and $subtract of milliseconds from a date."""
    if expr == '$$NOW':
        return now
    if isinstance(expr, str) and expr.startswith('$'):
        return field(doc, expr[1:])
    if isinstance(expr, dict) and len(expr) == 1:
        op, args = next(iter(expr.items()))
        a, b = (evaluate(doc, e, now) for e in args)
        if op == '$lt':
            return a is not None and a < b
        if op == '$lte':
            return a is not None and a <= b
        if op == '$subtract':
            return a - datetime.timedelta(milliseconds=b)
        raise AssertionError('the test cannot evaluate %s' % op)
    return expr


def matches(doc, query, now=None):
    """Whether doc matches query: equality (null matching a missing
    field, a value an array holding it), $in (an array holding any),
    $nin, $gt, $gte, $lt, $lte, $ne (an array not holding it), $exists,
    $type "null" (a field there and null), $not, $or and $expr (now: $$NOW): what the campaigns', the contacts',
    the outbox claim's, the settlements' and the media purge's queries
    use."""
    for key, want in query.items():
        if key == '$or':
            if not any(matches(doc, q, now) for q in want):
                return False
            continue
        if key == '$expr':
            if not evaluate(doc, want, now):
                return False
            continue
        have = field(doc, key)
        if isinstance(want, dict) and want and all(
                k.startswith('$') for k in want):
            for op, arg in want.items():
                if op == '$in':
                    ok = (any(h in arg for h in have)
                          if isinstance(have, list) else have in arg)
                elif op == '$nin':
                    ok = not matches({'v': have}, {'v': {'$in': arg}})
                elif op == '$gt':
                    ok = have is not None and have > arg
                elif op == '$gte':
                    ok = have is not None and have >= arg
                elif op == '$lt':
                    ok = have is not None and have < arg
                elif op == '$lte':
                    ok = have is not None and have <= arg
                elif op == '$ne':
                    ok = (arg not in have if isinstance(have, list)
                          else have != arg)
                elif op == '$exists':
                    ok = (have is not None) == arg
                elif op == '$type' and arg == 'null':
                    ok = have is None and present(doc, key)
                elif op == '$not':
                    ok = not matches({'v': have}, {'v': arg})
                else:
                    raise AssertionError('the test cannot match %s' % op)
                if not ok:
                    return False
        elif isinstance(have, list) and not isinstance(want, list):
            if want not in have:
                return False
        elif have != want:
            return False
    return True


def project(doc, projection):
    """A find's inclusion projection as a server applies it: _id and the
    paths named, a dotted one through documents and arrays of them (a
    message's media); a path through anything else gives nothing.  No
    projection: the whole document."""
    if not projection:
        return doc
    out = {}
    if projection.get('_id', 1) and '_id' in doc:
        out['_id'] = doc['_id']
    for path, on in projection.items():
        if on != 1:
            raise AssertionError('the test cannot project %s: %r'
                                 % (path, on))
        if path != '_id':
            _include(out, doc, path.split('.'))
    return out


def _include(out, doc, keys):
    key, rest = keys[0], keys[1:]
    if key not in doc:
        return
    value = doc[key]
    if not rest:
        out[key] = copy.deepcopy(value)
    elif isinstance(value, dict):
        _include(out.setdefault(key, {}), value, rest)
    elif isinstance(value, list):
        items = [v for v in value if isinstance(v, dict)]
        for o, v in zip(out.setdefault(key, [{} for _ in items]), items):
            _include(o, v, rest)


def command(request):
    """("insert", "messages") for {"insert": "messages", ...}."""
    name = request.command_name
    return name, request.doc.get(name)


class ReplicaSet:
    """Members sharing one copy of the data, as replication would make it.

    Writes that carry a session and transaction number are remembered with
    their answer, and sent again they get that answer without being applied
    twice: what a real server's session catalog does for retryable writes.
    """

    def __init__(self, members=1):
        self.lock = threading.RLock()
        self.election = 1
        self.messages = []
        self.events = []
        self.seq = 0
        self.unread = 0
        self.conversation = ObjectId()
        self.conversation_writes = 0
        self.receiving = []       # the conversation's messages counted
        self.contact = ObjectId()
        self.help_answered_at = None        # the contact's
        self.outbox = []
        self.ledger = []
        self.balance = 10                   # the organization's credits
        self.held = 0
        self.pending = []                   # settlements it took part in
        self.now = NOON                     # the server's clock: $$NOW
        self.campaigns = []
        self.recipients = []
        self.contacts = []        # an import's, and their threads
        # the sender of the texts is a contact (self.contact) already;
        # else the ingest's upsert makes it, into contacts
        self.sender_known = True
        self.reply_keys = []
        self.contact_events = []
        self.conversations = []
        self.media = []           # uploads
        # made with the store, and so marked: every name has its key (of
        # search.h's rule 3), every thread its responses' times, no thread
        # listed by campaigns alone nor left waiting by an opt-out, every
        # campaign's message its kind, every last message its status
        self.health = {'_id': 'store', 'search_names': 1, 'search_keys': 3,
                       'responses': 1, 'two_way': 1, 'opt_out_waits': 1,
                       'message_kinds': 1, 'last_messages': 1}
        self.answers = {}
        self.writes = []          # (member, command, txnNumber) received
        self.reads = []           # (collection, projection) of each find
        self.cursors = {}         # id: (collection, documents left)
        self.members = [Member(self) for _ in range(members)]
        self.members[0].state = 'primary'

    @property
    def uri(self):
        return 'mongodb://%s/inbox?replicaSet=rs' % ','.join(
            m.address for m in self.members)

    def hello(self, member):
        primary = [m.address for m in self.members if m.state == 'primary']
        doc = {
            'ismaster': member.state == 'primary',
            'isWritablePrimary': member.state == 'primary',
            'secondary': member.state == 'secondary',
            'helloOk': True,
            'setName': 'rs',
            'setVersion': 1,
            'hosts': [m.address for m in self.members],
            'me': member.address,
            'minWireVersion': 0,
            'maxWireVersion': 13,
            'logicalSessionTimeoutMinutes': 30,
            'maxBsonObjectSize': 16 * 1024 * 1024,
            'maxMessageSizeBytes': 48000000,
            'maxWriteBatchSize': 100000,
        }
        if primary:
            doc['primary'] = primary[0]
        if member.state == 'primary':
            doc['electionId'] = ObjectId('7fffffff%016x' % self.election)
        return doc

    def step_down(self, member, successor=None):
        """member is primary no more; successor, if any, is elected."""
        with self.lock:
            member.state = 'secondary'
            if successor is not None:
                self.election += 1
                successor.state = 'primary'

    def apply(self, member, request):
        """The answer to request, applying it if it writes."""
        with self.lock:
            doc = request.doc
            name, coll = command(request)
            if name in ('insert', 'update', 'findAndModify'):
                self.writes.append((member, (name, coll),
                                    doc.get('txnNumber')))
            key = None
            if 'txnNumber' in doc:
                key = (doc['lsid']['id'], doc['txnNumber'])
                if key in self.answers:
                    return self.answers[key]
            answer = self._run(name, coll, doc)
            if key is not None:
                self.answers[key] = answer
            return answer

    def _run(self, name, coll, doc):
        if name in ('createIndexes', 'endSessions', 'ping'):
            return {}
        if name == 'find':
            self.reads.append((coll, doc.get('projection')))
            return self._cursor(coll, [
                project(d, doc.get('projection'))
                for d in self._find(coll, doc['filter'])], doc)
        if name in ('getMore', 'killCursors'):
            return self._more(name, doc)
        if (name == 'update' and coll in ('contacts', 'conversations')
                and not any('$pull' in u['u'] for u in doc['updates'])
                and (coll == 'conversations' or all(
                    u.get('upsert') for u in doc['updates']))):
            # an import's: each contact, and each thread, made unless
            # it is there; a thread's copy of its contact
            return self._upsert(coll, doc['updates'])
        if (name, coll) == ('findAndModify', 'contacts') and (
                self.contacts or not self.sender_known):
            # a rename's or an opt change's compare-and-set; an ingest's
            # upsert
            for d in self.contacts:
                if matches(d, doc['query']):
                    before = copy.deepcopy(d)
                    apply_update(d, doc['update'], False)
                    return {'value': d if doc.get('new') else before}
            if doc.get('upsert'):
                # a new number's contact, with the ids the store gave it:
                # the thread to be is the one the ingest writes
                d = {k: v for k, v in doc['query'].items()
                     if not isinstance(v, dict)}
                apply_update(d, doc['update'], True)
                self.contacts.append(d)
                self.contact = d['_id']
                self.conversation = d['conversation_id']
                return {'value': d, 'lastErrorObject': {
                    'n': 1, 'updatedExisting': False, 'upserted': d['_id']}}
            return {'value': None}
        if (name, coll) == ('findAndModify', 'contacts'):
            return {'value': {'_id': self.contact,
                              'conversation_id': self.conversation,
                              'name': None, 'opted_out': False}}
        if (name, coll) == ('insert', 'messages'):
            for i, message in enumerate(doc['documents']):
                if any(m['provider_id'] == message['provider_id']
                       or m['_id'] == message['_id']
                       for m in self.messages):
                    return {'n': i, 'writeErrors': [{
                        'index': i, 'code': DUPLICATE_KEY,
                        'errmsg': 'E11000 duplicate key error collection: '
                                  'inbox.messages index: '
                                  'org_provider_id_unique'}]}
                self.messages.append(message)
            return {'n': len(doc['documents'])}
        if (name, coll) == ('findAndModify', 'conversations'):
            update = doc['update']
            respond = {'unresponded_at', 'responded_at'}
            if isinstance(update, list) and set(update[0]['$set']) == respond:
                # an opt-out's: the thread waits no longer (its times
                # alone, which no test here reads)
                pass
            elif isinstance(update, list):
                # ingest's update pipeline: one more unread, unless the
                # message is in receiving already; it joins it
                receiving = update[0]['$set'].get('receiving')
                message = receiving['$setUnion'][1][0] if receiving else None
                if message is None or message not in self.receiving:
                    self.unread += 1
                    self.receiving.append(message)
            elif 'last_message' in update.get('$set', {}):
                # a notice's: the thread's last message
                pass
            elif all(doc['query'].get(field, value) == value
                     for field, value in self._flags().items()):
                # an action: $set where the flags read are still there
                self.unread = update['$set']['unread_count']
            else:
                return {'value': None}
            self.conversation_writes += 1
            return {'value': self._conversation()}
        if (name, coll) == ('findAndModify', 'orgs'):
            inc = doc['update']['$inc']
            if 'seq' not in inc:
                return self._hold(doc['query'], doc['update'])
            self.seq += inc['seq']
            return {'value': {'_id': ORG, 'seq': self.seq, 'epoch': 'e1'}}
        if (name, coll) == ('insert', 'reply_keys'):
            for i, key in enumerate(doc['documents']):
                if any((k['org_id'], k['key']) == (key['org_id'], key['key'])
                       for k in self.reply_keys):
                    return {'n': i, 'writeErrors': [{
                        'index': i, 'code': DUPLICATE_KEY,
                        'errmsg': 'E11000 duplicate key error collection: '
                                  'inbox.reply_keys index: '
                                  'org_key_unique'}]}
                self.reply_keys.append(key)
            return {'n': len(doc['documents'])}
        if (name, coll) == ('delete', 'reply_keys'):
            n = 0
            for d in doc['deletes']:
                gone = [k for k in self.reply_keys if matches(k, d['q'])]
                for k in gone[:d['limit'] or len(gone)]:
                    self.reply_keys.remove(k)
                    n += 1
            return {'n': n}
        if (name, coll) == ('findAndModify', 'campaigns') and doc.get(
                'remove'):
            # a draft's delete: the one it matches, removed
            for d in self.campaigns:
                if matches(d, doc['query']):
                    self.campaigns.remove(d)
                    return {'value': d}
            return {'value': None}
        if (name, coll) == ('delete', 'campaign_recipients'):
            # what a failed send left of a deleted draft's recipients
            n = 0
            for q in doc['deletes']:
                for d in [d for d in self.recipients if matches(d, q['q'])]:
                    self.recipients.remove(d)
                    n += 1
            return {'n': n}
        if (name, coll) == ('findAndModify', 'campaign_recipients'):
            # a recipient moved by its message's status, or answering
            for d in self.recipients:
                if matches(d, doc['query']):
                    before = copy.deepcopy(d)
                    apply_update(d, doc['update'], False)
                    return {'value': d if doc.get('new') else before}
            return {'value': None}
        if (name, coll) == ('findAndModify', 'messages'):
            # a hold's settlement begun, or taken again by the recovery:
            # the oldest that matches
            found = [m for m in self.messages
                     if matches(m, doc['query'], self.now)]
            for key in doc.get('sort') or {}:
                found.sort(key=lambda m, key=key: m[key])
            if not found:
                return {'value': None}
            m = found[0]
            if isinstance(doc['update'], list):
                apply_pipeline(m, doc['update'], self.now)
            else:
                apply_update(m, doc['update'], False)
            return {'value': dict({f: m.get(f) for f in doc['fields']},
                                  _id=m['_id'])}
        if (name, coll) == ('insert', 'ledger'):
            for i, entry in enumerate(doc['documents']):
                # _id, and a later hold's (message_id, hold) unique
                if any(e['_id'] == entry['_id']
                       or ('hold' in entry and 'hold' in e
                           and (e['message_id'], e['hold'])
                           == (entry['message_id'], entry['hold']))
                       for e in self.ledger):
                    return {'n': i, 'writeErrors': [{
                        'index': i, 'code': DUPLICATE_KEY,
                        'errmsg': 'E11000 duplicate key error collection: '
                                  'inbox.ledger index: _id_'}]}
                self.ledger.append(entry)
            return {'n': len(doc['documents'])}
        if (name, coll) == ('update', 'orgs'):
            # a settlement's last step: its id out of pending
            n = 0
            for u in doc['updates']:
                if matches(self._org(), u['q'], self.now):
                    gone = u['u']['$pull']['credits.pending']
                    self.pending = [p for p in self.pending if p != gone]
                    n += 1
            return {'n': n, 'nModified': n}
        if (name, coll) == ('aggregate', 'campaign_recipients'):
            return {'cursor': {'id': 0, 'ns': 'inbox.campaign_recipients',
                               'firstBatch': self._recipients_aggregate(
                                   doc['pipeline'])}}
        if name == 'update' and coll in ('campaigns', 'campaign_recipients',
                                         'outbox', 'media'):
            return self._update(coll, doc['updates'])
        if (name, coll) == ('findAndModify', 'outbox'):
            # a claim's take: the first due entry in its order, leased
            found = [d for d in self.outbox if matches(d, doc['query'])]
            for key in reversed(list(doc.get('sort') or {})):
                found.sort(key=lambda d, key=key: d[key])
            if not found:
                return {'value': None}
            before = copy.deepcopy(found[0])
            apply_update(found[0], doc['update'], False)
            return {'value': found[0] if doc.get('new') else before}
        if (name, coll) == ('findAndModify', 'media'):
            # the purge's mark on one upload
            for d in self.media:
                if matches(d, doc['query']):
                    before = {'_id': d['_id'], 'file': d['file']}
                    apply_update(d, doc['update'], False)
                    return {'value': before}
            return {'value': None}
        if (name, coll) == ('delete', 'media'):
            # the purge's deletion of the records whose files went
            n = 0
            for q in doc['deletes']:
                gone = [d for d in self.media if matches(d, q['q'])]
                for d in gone:
                    self.media.remove(d)
                    n += 1
            return {'n': n}
        if (name, coll) == ('aggregate', 'conversations'):
            return {'cursor': {'id': 0, 'ns': 'inbox.conversations',
                               'firstBatch': [{'_id': None,
                                               'total': self.unread}]}}
        if (name, coll) == ('update', 'health'):
            matched = [u for u in doc['updates']
                       if self.health is not None
                       and u['q'] == {'_id': self.health['_id']}]
            for u in matched:
                self.health.update(u['u']['$set'])
            return {'n': len(matched), 'nModified': len(matched)}
        if (name, coll) == ('update', 'messages'):
            # ingest's finish: $unset threaded; a Send again's mark
            # given back, where it is still that send's; a
            # settlement's end; a parked message held again (held,
            # holds counted)
            n = 0
            for u in doc['updates']:
                for m in self.messages:
                    if matches(m, u['q']):
                        apply_update(m, u['u'], False)
                        n += 1
            return {'n': n, 'nModified': n}
        if (name, coll) == ('update', 'conversations'):
            # ingest's finish: $pull the message from receiving
            for u in doc['updates']:
                message = u['u']['$pull']['receiving']
                if message in self.receiving:
                    self.receiving.remove(message)
            return {'n': len(doc['updates']), 'nModified': 1}
        if (name, coll) == ('update', 'contact_events'):
            # an opt change's timeline entry: written once, an upsert on
            # the contact, kind and time
            return self._upsert(coll, doc['updates'])
        if (name, coll) == ('insert', 'events'):
            self.events.extend(doc['documents'])
            return {'n': len(doc['documents'])}
        if (name, coll) == ('insert', 'outbox'):
            for i, entry in enumerate(doc['documents']):
                if any(e['_id'] == entry['_id'] for e in self.outbox):
                    return {'n': i, 'writeErrors': [{
                        'index': i, 'code': DUPLICATE_KEY,
                        'errmsg': 'E11000 duplicate key error collection: '
                                  'inbox.outbox index: _id_'}]}
                self.outbox.append(entry)
            return {'n': len(doc['documents'])}
        if (name, coll) == ('insert', 'contacts'):
            # a contact added by hand: the unique (org_id, phone) index
            for i, contact in enumerate(doc['documents']):
                if any((c['org_id'], c['phone'])
                       == (contact['org_id'], contact['phone'])
                       for c in self.contacts):
                    return {'n': i, 'writeErrors': [{
                        'index': i, 'code': DUPLICATE_KEY,
                        'errmsg': 'E11000 duplicate key error collection: '
                                  'inbox.contacts index: '
                                  'org_phone_unique'}]}
                self.contacts.append(contact)
            return {'n': len(doc['documents'])}
        if (name, coll) == ('update', 'contacts') and all(
                '$unset' in u['u'] for u in doc['updates']):
            # an ingest's contact made, once its contact.updated is written
            return self._update(coll, doc['updates'])
        if (name, coll) == ('update', 'contacts'):
            # a HELP takes the contact's day: compare and set
            n = 0
            for u in doc['updates']:
                at = u['u']['$set']['help_answered_at']
                taken = self.help_answered_at
                if (taken is None or taken == at
                        or taken <= at - datetime.timedelta(days=1)):
                    self.help_answered_at = at
                    n += 1
            return {'n': n, 'nModified': n}
        raise AssertionError('the test has no answer to %s %s' % (name, coll))

    def _org(self):
        return {'_id': ORG, 'name': 'Acme', 'timezone': 'UTC',
                'billing_active': True,
                'credits': {'balance': self.balance, 'held': self.held,
                            'pending': list(self.pending)}}

    def _flags(self):
        return {'unread_count': self.unread, 'archived': False,
                'starred': False}

    def _conversation(self):
        return dict({'_id': self.conversation, 'org_id': ORG,
                     'contact': {'id': self.contact, 'name': None,
                                 'phone': PHONE, 'opted_out': False},
                     'last_activity_at': datetime.datetime(2026, 1, 1)},
                    **self._flags())

    def _find(self, coll, query):
        if coll == 'health':
            return [self.health] if self.health is not None else []
        if coll == 'numbers' and query.get('e164') == NUMBER:
            return [{'_id': ObjectId(), 'org_id': ORG}]
        if coll == 'numbers' and query.get('org_id') == ORG:
            return [{'_id': ObjectId(), 'e164': NUMBER}]
        if coll in ('campaigns', 'campaign_recipients', 'outbox',
                    'contacts', 'reply_keys'):
            return [d for d in self._collection(coll) if matches(d, query)]
        if coll == 'media':
            # the purge's window, oldest first
            return sorted((d for d in self.media if matches(d, query)),
                          key=lambda d: d['created_at'])
        if coll == 'messages' and 'media.file' in query:
            # the purge's look for a message naming an upload
            return [{'_id': m['_id']} for m in self.messages
                    if matches(m, query)]
        if coll == 'messages' and 'held' in query:
            # a claim's look at a parked message holding nothing
            fields = ('_id', 'org_id', 'credits', 'settling')
            return [{f: m[f] for f in fields if f in m}
                    for m in self.messages if matches(m, query)]
        if coll == 'messages' and isinstance(query.get('_id'), dict):
            # a page's messages, by _id $in: as stored, the projection
            # alone keeping out what the page does not read
            return [m for m in self.messages if matches(m, query)]
        if coll == 'messages':
            fields = ('_id', 'conversation_id', 'created_at', 'threaded',
                      'answer_id', 'status', 'contact_id', 'held',
                      'credits', 'error_code', 'campaign_id',
                      'unannounced', 'direction', 'body', 'sent_by',
                      'resent_as', 'resent_at')
            return [{f: m[f] for f in fields if f in m}
                    for m in self.messages
                    if m['provider_id'] == query.get('provider_id')
                    or m['_id'] == query.get('_id')]
        if coll == 'orgs':
            # with its stream's newest number and epoch, a resume's
            return [dict(d, seq=self.seq, epoch='e1')
                    for d in [self._org()] if matches(d, query)]
        if coll == 'ledger':
            return [e for e in self.ledger if matches(e, query)]
        if coll == 'events':
            # in order (a resume's, its oldest first), the projection
            # and the limit choosing what of them
            return sorted((e for e in self.events if matches(e, query)),
                          key=lambda e: e['seq'])
        if coll == 'conversations' and query['_id'] == self.conversation:
            return [self._conversation()]
        if coll == 'conversations':
            # an import's threads, read for its events, or a page's; a
            # resume's (by _id $in) the texts' thread, unless stored
            found = [d for d in self.conversations if matches(d, query)]
            if not found and matches(self._conversation(), query):
                found = [self._conversation()]
            return found
        if coll == 'users' and query == {'_id': USER, 'org_id': ORG}:
            # the one person of the organization, who sends replies
            return [{'_id': USER}]
        if coll == 'tokens' and query.get('token_hash') == TOKEN_HASH:
            return [{'_id': ObjectId(), 'org_id': ORG,
                     'created_at': datetime.datetime(2026, 1, 1),
                     'expires_at': None, 'revoked_at': None}]
        return []

    # Cursors as a server keeps them: a find's first batch holds 101
    # documents unless batchSize says otherwise, getMore the others.

    def _cursor(self, coll, docs, doc):
        if doc.get('limit'):
            docs = docs[:abs(doc['limit'])]
        size = doc.get('batchSize') or 101
        first, rest = docs[:size], docs[size:]
        cursor_id = 0
        if rest and not doc.get('singleBatch'):
            cursor_id = len(self.cursors) + 1000
            self.cursors[cursor_id] = (coll, rest)
        return {'cursor': {'id': Int64(cursor_id), 'ns': 'inbox.' + coll,
                           'firstBatch': first}}

    def _more(self, name, doc):
        if name == 'killCursors':
            for cursor_id in doc['cursors']:
                self.cursors.pop(cursor_id, None)
            return {'cursorsKilled': doc['cursors']}
        if doc['getMore'] not in self.cursors:
            return {'ok': 0, 'code': 43, 'codeName': 'CursorNotFound',
                    'errmsg': 'cursor id %d not found' % doc['getMore']}
        coll, docs = self.cursors.pop(doc['getMore'])
        size = doc.get('batchSize') or len(docs)
        batch, rest = docs[:size], docs[size:]
        cursor_id = 0
        if rest:
            cursor_id = doc['getMore']
            self.cursors[cursor_id] = (coll, rest)
        return {'cursor': {'id': Int64(cursor_id), 'ns': 'inbox.' + coll,
                           'nextBatch': batch}}

    # Campaigns: their documents as the store writes them, and the few
    # queries it makes of them.

    def campaign(self, status, reason=None):
        """A campaign to every contact in status, started at noon."""
        doc = {'_id': CAMPAIGN, 'org_id': ORG, 'kind': 'campaign',
               'name': 'Spring sale', 'body': 'Sale!', 'question': None,
               'options': [], 'audience_all': True, 'tags': [],
               'tag_keys': [], 'media': [], 'segments': 1, 'credits': 1,
               'status': status, 'paused_reason': reason,
               'send_at': datetime.datetime(1970, 1, 1),
               'created_at': NOON, 'started_at': NOON, 'finished_at': None}
        self.campaigns.append(doc)
        return doc

    def recipient(self, state='due'):
        """The contact as a recipient of the campaign, due at noon."""
        doc = {'_id': ObjectId(), 'campaign_id': CAMPAIGN, 'org_id': ORG,
               'contact_id': self.contact, 'poll': False, 'state': state,
               'due_at': NOON, 'message_id': None, 'sent_at': None,
               'replied_at': None, 'answer': None, 'answered_at': None,
               'answer_message_id': None}
        self.recipients.append(doc)
        return doc

    def contact_doc(self, name=None):
        """The thread's contact as a document the store reads."""
        doc = {'_id': self.contact, 'org_id': ORG, 'phone': PHONE,
               'name': name, 'search_name': name, 'opted_out': False,
               'conversation_id': self.conversation, 'tags': [],
               'tag_keys': [], 'timezone': None, 'created_at': NOON}
        self.contacts.append(doc)
        return doc

    def thread_doc(self):
        """The contact's thread, its copy of the contact from before
        copies had versions."""
        doc = {'_id': self.conversation, 'org_id': ORG,
               'contact': {'id': self.contact, 'name': None,
                           'search_name': None, 'phone': PHONE,
                           'opted_out': False}}
        self.conversations.append(doc)
        return doc

    def _collection(self, coll):
        return {'campaigns': self.campaigns,
                'campaign_recipients': self.recipients,
                'outbox': self.outbox,
                'contacts': self.contacts,
                'conversations': self.conversations,
                'reply_keys': self.reply_keys,
                'contact_events': self.contact_events,
                'media': self.media}[coll]

    def _update(self, coll, updates):
        """n: the documents matched; nModified: those the update changed
        (dispatch counts the campaigns it started by it)."""
        n = modified = 0
        for u in updates:
            for d in self._collection(coll):
                if matches(d, u['q']):
                    before = copy.deepcopy(d)
                    if isinstance(u['u'], list):
                        apply_pipeline(d, u['u'])
                    else:
                        apply_update(d, u['u'], False)
                    n += 1
                    modified += d != before
                    if not u.get('multi'):
                        break
        return {'n': n, 'nModified': modified}

    def _upsert(self, coll, updates):
        """Upserts answered as a server answers them: n (matched or
        inserted), nModified (changed), and upserted: the index and _id
        of each update that inserted its document, when one did."""
        docs = self._collection(coll)
        n = modified = 0
        upserted = []
        for i, u in enumerate(updates):
            found = [d for d in docs if matches(d, u['q'])]
            if found:
                before = copy.deepcopy(found[0])
                apply_update(found[0], u['u'], False)
                modified += found[0] != before
            elif not u.get('upsert'):
                continue
            else:
                # the query's equalities, then the update
                d = {k: v for k, v in u['q'].items()
                     if not isinstance(v, dict)}
                apply_update(d, u['u'], True)
                d.setdefault('_id', ObjectId())
                docs.append(d)
                upserted.append({'index': i, '_id': d['_id']})
            n += 1
        answer = {'n': n, 'nModified': modified}
        if upserted:
            answer['upserted'] = upserted
        return answer

    def _recipients_aggregate(self, pipeline):
        docs = [d for d in self.recipients
                if matches(d, pipeline[0]['$match'])]
        if '$group' in pipeline[1]:
            # the counts: by campaign, state and answer
            groups = {}
            for d in docs:
                key = (d['campaign_id'], d['state'], d['answer'])
                groups[key] = groups.get(key, 0) + 1
            return [{'_id': {'campaign': c, 'state': s, 'answer': a},
                     'n': k, 'replied': 0}
                    for (c, s, a), k in groups.items()]
        # dispatch's due recipients, each with its contact
        contact = {'_id': self.contact, 'phone': PHONE, 'opted_out': False,
                   'timezone': None, 'conversation_id': self.conversation}
        return [dict(d, contact=[contact] if d['contact_id'] == self.contact
                     else []) for d in docs]

    def _hold(self, query, update):
        """A message's credits held, if billing is on and they are
        there; or a hold settled, if pending does not hold its message
        and its settler's lease lasts."""
        inc = update['$inc']
        if (self.balance < query.get('credits.balance', {}).get('$gte', 0)
                or not matches(self._org(), query, self.now)):
            return {'value': None}
        self.balance += inc['credits.balance']
        self.held += inc['credits.held']
        if '$push' in update:
            self.pending.append(update['$push']['credits.pending'])
        return {'value': {'_id': ORG, 'credits': {'balance': self.balance,
                                                  'held': self.held}}}

    def writes_of(self, name, coll):
        return [(m, txn) for m, c, txn in self.writes if c == (name, coll)]

    def stop(self):
        for member in self.members:
            member.server.stop()


class Member:
    """One mockupdb server.  state: primary, secondary, down (hangs up on
    everyone) or silent (reads and never answers).  faults: (command,
    action) pairs, each used once, on the first request for that
    (name, collection); action(member, request) answers it."""

    def __init__(self, rs):
        self.rs = rs
        self.state = 'secondary'
        self.faults = []
        self.server = MockupDB(request_timeout=30)
        self.server.autoresponds(self.handle)
        self.address = 'localhost:%d' % self.server.run()

    def handle(self, request):
        with self.rs.lock:
            if self.state == 'down':
                return request.hangup()
            if self.state == 'silent':
                return True
            if request.command_name.lower() in ('ismaster', 'hello'):
                return request.replies(self.rs.hello(self))
            for i, (cmd, action) in enumerate(self.faults):
                if command(request) == cmd:
                    del self.faults[i]
                    return action(self, request)
            return request.replies(self.rs.apply(self, request))


# What a fault does to the request it falls on.

def hang_up(member, request):
    """The connection drops before the server reads the command."""
    return request.hangup()


def lose_answer(member, request):
    """The server applies the write; its answer is lost with the
    connection."""
    member.rs.apply(member, request)
    return request.hangup()


def go_down(member, request):
    """The server dies: this connection and every later one hang up."""
    member.state = 'down'
    return request.hangup()


def fault_on_second(member, cmd, action):
    """action falls on the second request for cmd, the first applied."""
    def first(member_, request):
        member_.faults.append((cmd, action))
        return request.replies(member_.rs.apply(member_, request))
    member.faults.append((cmd, first))


def go_silent(member, request):
    """A partition: nothing reaches the server any more, nothing is
    refused either."""
    member.state = 'silent'
    return True


def step_down_to(successor):
    """The member is not primary any more (it answers as a server does,
    labelled retryable for a retryable write) and successor, if any, is
    elected."""
    def action(member, request):
        member.rs.writes.append((member, command(request),
                                 request.doc.get('txnNumber')))
        member.rs.step_down(member, successor)
        labels = ({'errorLabels': ['RetryableWriteError']}
                  if 'txnNumber' in request.doc else {})
        return request.command_err(code=NOT_WRITABLE_PRIMARY,
                                   errmsg='not primary', **labels)
    return action


def unconfirmed(member, request):
    """The server applies the write and answers it, but could not have
    it confirmed by the write concern (a majority in time): the write
    may stay."""
    answer = member.rs.apply(member, request)
    return request.replies(dict(answer, writeConcernError={
        'code': 64, 'codeName': 'WriteConcernFailed',
        'errmsg': 'waiting for replication timed out'}))


def refuse(member, request):
    """The server refuses the command (an error no driver retries) and
    applies nothing."""
    member.rs.writes.append((member, command(request),
                             request.doc.get('txnNumber')))
    return request.command_err(code=1, errmsg='internal error')


def before(change):
    """Another process's write lands just before the request: change(rs)
    is applied, then the request is."""
    def action(member, request):
        change(member.rs)
        return request.replies(member.rs.apply(member, request))
    return action


def sender_pauses_for_credits(rs):
    rs.campaigns[0].update(status='paused',
                           paused_reason='insufficient_credits')


def sender_finishes(rs):
    rs.campaigns[0].update(status='done', finished_at=NOON)


def assert_resent_once(rs, name, coll):
    """The write went twice, as one transaction the server applies
    once."""
    sent = rs.writes_of(name, coll)
    assert len(sent) == 2 and sent[0][1] is not None, sent
    assert sent[0][1] == sent[1][1], 'resent with another txnNumber'


def run(rs, *args):
    """Runs store_op against rs; its JSON line, checked to be the only
    output on stdout and to come with a clean exit (no sanitizer
    report)."""
    proc = subprocess.run([DRIVER, rs.uri] + list(args),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (
        'store_op exited %d: %s' % (proc.returncode, proc.stderr))
    assert 'Sanitizer' not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def ingest(rs, body='Is Tuesday ok?'):
    return run(rs, 'ingest', NUMBER, PHONE, SID, body)


def answers(rs):
    """The inbox's outbound messages (keyword answers)."""
    return [m for m in rs.messages if m['direction'] == 'outbound']


def counts(out):
    """An import's (created, updated)."""
    return out['result']['created'], out['result']['updated']


def expect(out, status, http):
    assert (out['status'], out['http']) == (status, http), out


def held_message(rs):
    """A message the carrier took four days ago whose final status never
    came: its credit still held, past the hold's bound (72 h)."""
    message = {'_id': ObjectId(), 'org_id': ORG, 'provider': 'twilio',
               'provider_id': SID, 'direction': 'outbound',
               'status': 'sent', 'credits': 1, 'held': True,
               'submitted_at': NOON - datetime.timedelta(days=4)}
    rs.messages.append(message)
    rs.balance, rs.held = 9, 1
    return message


def holds_job(rs, after):
    """The sender's holds job, its clock and the server's at noon plus
    after."""
    rs.now = NOON + after
    ms = int((rs.now - datetime.datetime(1970, 1, 1)).total_seconds()
             * 1000)
    return run(rs, 'holds-expire', str(ms))


def assert_captured_once(rs, message):
    """The hold captured: one ledger entry, under the message's id, the
    credit no longer held nor given back, nothing left settling."""
    assert [(e['_id'], e['kind']) for e in rs.ledger] == [
        (message['_id'], 'capture')], rs.ledger
    assert (rs.balance, rs.held) == (9, 0), (rs.balance, rs.held)
    assert message['held'] is False and 'settling' not in message, message
    assert rs.pending == [], rs.pending


# The tests.

def test_new_message_is_stored_with_its_events(rs):
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    assert out['result']['duplicate'] is False, out
    assert len(rs.messages) == 1 and rs.unread == 1 and rs.seq == 3
    assert len(rs.events) == 3


def test_resume_shows_the_message_with_its_picture(rs):
    """A browser that missed a text with a picture resumes (events since
    0): message.created shows the message, its body, its picture (the
    copy's file, type, state and size) and its thread, read by _id $in
    with their projections applied as a server applies them, so that a
    field the frame shows and a projection leaves out would be missing
    here; the carrier's ids and the fetcher's attempts are not read."""
    out = ingest(rs)
    expect(out, 'ok', 200)
    rs.messages[0]['media'] = [{
        'url': 'https://api.twilio.com/m/1', 'content_type': 'image/jpeg',
        'state': 'stored', 'file': 'ab.jpg', 'bytes': 40000,
        'attempts': 1}]
    out = run(rs, 'events-since', str(ORG), 'e1', '0', '0', '100')
    expect(out, 'ok', 200)
    frames = [json.loads(f) for f in out['result']['frames']]
    assert [f['type'] for f in frames] == [
        'message.created', 'conversation.updated', 'unread.total'], frames
    message = frames[0]['message']
    assert (message['id'], message['conversation_id'], message['direction'],
            message['body'], message['segments'], message['media']) == (
        str(rs.messages[0]['_id']), str(rs.conversation), 'inbound',
        'Is Tuesday ok?', 1,
        [{'url': '/media/ab.jpg', 'content_type': 'image/jpeg',
          'state': 'stored', 'bytes': 40000}]), message
    conversation = frames[1]['conversation']
    assert (conversation['contact']['phone'],
            conversation['unread_count']) == (PHONE, 1), conversation
    read = dict(rs.reads)
    assert read['messages'] is not None and not {
        'provider_id', 'media.attempts'} & set(read['messages']), read


def test_new_number_pushes_its_contact_once(rs):
    """A text from a number that is no contact yet: the upsert makes the
    contact, and the message's events are followed by contact.updated
    naming its thread, so that every Contacts list shows it.  The
    carrier's retry, a duplicate, pushes nothing; the contact's next
    text pushes its message alone."""
    rs.sender_known = False
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3, 4], out
    assert [c['phone'] for c in rs.contacts] == [PHONE], rs.contacts
    assert [e['type'] for e in rs.events] == [
        'message.created', 'conversation.updated', 'unread.total',
        'contact.updated'], rs.events
    assert rs.events[3]['conversation_id'] == rs.contacts[0][
        'conversation_id'], rs.events
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is True, out
    assert out['events'] == [] and len(rs.events) == 4, out
    out = run(rs, 'ingest', NUMBER, PHONE, SID2, 'Or Wednesday?')
    expect(out, 'ok', 200)
    assert out['events'] == [5, 6, 7], out
    assert len(rs.contacts) == 1, rs.contacts


def test_new_numbers_text_failed_after_its_insert_is_pushed_by_the_retry(
        rs):
    """The server dies after a new number's text is stored, before its
    thread: the contact is made, nothing pushed.  The retry finishes the
    message with its events and the contact's, as the first attempt
    would have (the contact was made at the message's time)."""
    rs.sender_known = False
    rs.members[0].faults.append((('findAndModify', 'conversations'),
                                 go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert len(rs.contacts) == 1 and rs.events == [], rs.events
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['events'] == [1, 2, 3, 4], out
    assert rs.events[3]['type'] == 'contact.updated', rs.events
    assert len(rs.contacts) == 1, rs.contacts


def test_new_numbers_text_failed_before_its_insert_is_pushed_by_the_retry(
        rs):
    """The server dies after a new number's contact is made, before its
    text is stored: nothing is stored of the message, nothing pushed.
    The retry stores it and pushes the contact with its events, as the
    first attempt would have (the contact is still unannounced); once
    pushed, the contact is announced and the next text pushes its
    message alone."""
    rs.sender_known = False
    rs.members[0].faults.append((('insert', 'messages'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert len(rs.contacts) == 1 and rs.messages == [], rs.messages
    assert rs.contacts[0].get('unannounced') is True, rs.contacts
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['events'] == [1, 2, 3, 4], out
    assert rs.events[3]['type'] == 'contact.updated', rs.events
    assert 'unannounced' not in rs.contacts[0], rs.contacts
    out = run(rs, 'ingest', NUMBER, PHONE, SID2, 'Or Wednesday?')
    expect(out, 'ok', 200)
    assert out['events'] == [5, 6, 7], out


def test_duplicate_key_is_a_message_stored_before(rs):
    """The carrier's retry of a stored message: E11000 on the insert is
    the answer it had the first time, with nothing more written and no
    second event."""
    expect(ingest(rs), 'ok', 200)
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is True, out
    assert out['result']['message_id'] == str(rs.messages[0]['_id']), out
    assert out['events'] == [], out
    assert len(rs.messages) == 1 and len(rs.events) == 3
    assert rs.conversation_writes == 1 and rs.unread == 1 and rs.seq == 3


def test_lost_answer_of_the_message_insert_applies_it_once(rs):
    """The server stores the message and the connection drops before its
    answer: the driver sends the insert again with the same session and
    transaction number, the server answers without storing it twice, and
    the webhook is stored once with its conversation and events."""
    rs.members[0].faults.append((('insert', 'messages'), lose_answer))
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    assert_resent_once(rs, 'insert', 'messages')
    assert len(rs.messages) == 1, rs.messages
    assert rs.conversation_writes == 1 and rs.unread == 1


def test_lost_answer_of_the_event_numbers_applies_them_once(rs):
    """The organization's $inc of seq is lost the same way: applied once,
    so the events are 1, 2, 3 and not 4, 5, 6 with a gap before them."""
    rs.members[0].faults.append((('findAndModify', 'orgs'), lose_answer))
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    assert rs.seq == 3 and [e['seq'] for e in rs.events] == [1, 2, 3]
    assert_resent_once(rs, 'findAndModify', 'orgs')


def test_lost_answer_of_the_conversation_update_counts_it_once(rs):
    """The conversation's update pipeline (one more unread) is lost the
    same way: the thread shows 1 unread, not 2, and the events follow."""
    rs.members[0].faults.append((('findAndModify', 'conversations'),
                                 lose_answer))
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    assert rs.unread == 1 and rs.conversation_writes == 1
    assert_resent_once(rs, 'findAndModify', 'conversations')


def test_server_gone_is_unavailable_then_the_retry_stores_it(rs):
    """The server dies mid-ingest (before the message insert reaches it):
    503 so that the carrier retries, in time, without a crash; the retry,
    once the server is back, stores the message once."""
    rs.members[0].faults.append((('insert', 'messages'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert out['ms'] < CARRIER_PATIENCE_MS, out
    assert out['events'] == [] and rs.messages == []
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    assert len(rs.messages) == 1 and rs.conversation_writes == 1


def test_failure_after_the_message_insert_is_finished_by_the_retry(rs):
    """The server dies after the message is stored, before its thread is
    written: 503, and the stored message is unfinished (shown nowhere).
    The carrier's retry meets its duplicate key and writes the thread
    and the events for it: not a duplicate answered 200 with a thread
    that never learns of the message."""
    rs.members[0].faults.append((('findAndModify', 'conversations'),
                                 go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert len(rs.messages) == 1 and rs.messages[0]['threaded'] is False
    assert rs.conversation_writes == 0 and rs.events == []
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['result']['message_id'] == str(rs.messages[0]['_id']), out
    assert out['events'] == [1, 2, 3], out
    assert len(rs.messages) == 1 and 'threaded' not in rs.messages[0]
    assert rs.conversation_writes == 1 and rs.unread == 1
    assert len(rs.events) == 3 and rs.receiving == []
    # a finished message is a duplicate: nothing more
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is True, out
    assert out['events'] == [] and len(rs.events) == 3, out
    assert rs.conversation_writes == 1 and rs.unread == 1


def test_batch_failing_on_its_second_message_keeps_the_first_stored(rs):
    """Two webhooks in one batch, the server gone at the second's insert:
    the batch fails, but the first message was stored with its thread
    and events (no transaction undoes them), and its result says so, for
    nginx to answer it 200 and push its events rather than a 503 the
    carrier retries for nothing; the second is unavailable.  The batch
    retried stores the second, the first a duplicate."""
    fault_on_second(rs.members[0], ('insert', 'messages'), go_down)
    out = run(rs, 'ingest-pair', NUMBER, PHONE, SID, 'Is Tuesday ok?',
              SID2, 'Or Wednesday?')
    expect(out, 'unavailable', 503)
    assert out['result']['fates'] == ['ok', 'unavailable'], out
    assert out['events'] == [1, 2, 3], out
    assert len(rs.messages) == 1 and rs.unread == 1
    rs.members[0].state = 'primary'
    out = run(rs, 'ingest-pair', NUMBER, PHONE, SID, 'Is Tuesday ok?',
              SID2, 'Or Wednesday?')
    expect(out, 'ok', 200)
    assert out['result']['fates'] == ['ok', 'ok'], out
    assert out['events'] == [4, 5, 6], out
    assert len(rs.messages) == 2 and rs.unread == 2


def test_failure_after_the_thread_counts_the_message_once(rs):
    """The server dies after the thread counted the message, before its
    events are numbered: the retry writes the events, and the thread
    shows 1 unread, not 2."""
    rs.members[0].faults.append((('findAndModify', 'orgs'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert rs.conversation_writes == 1 and rs.unread == 1
    assert rs.events == [] and rs.messages[0]['threaded'] is False
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['events'] == [1, 2, 3], out
    assert rs.conversation_writes == 2 and rs.unread == 1, rs.unread
    assert len(rs.events) == 3 and 'threaded' not in rs.messages[0]
    assert rs.receiving == []


def test_failure_after_the_events_writes_them_once(rs):
    """The server dies once the events are written, before the message
    is marked finished: the retry finishes it without a second copy of
    its events (nor a second unread)."""
    rs.members[0].faults.append((('update', 'messages'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert len(rs.events) == 3 and rs.messages[0]['threaded'] is False
    rs.members[0].state = 'primary'
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['events'] == [], out
    assert len(rs.events) == 3 and rs.seq == 3 and rs.unread == 1
    assert 'threaded' not in rs.messages[0] and rs.receiving == []


def test_failure_before_the_answer_is_queued_by_the_retry_once(rs):
    """A HELP stored (with its answer's id) and the server dies before
    the answer is queued: 503, the message unfinished and no answer.  The
    carrier's retry queues the answer under that id, once: a second
    retry is a duplicate and queues nothing more."""
    rs.members[0].faults.append((('update', 'contacts'), go_down))
    out = ingest(rs, 'HELP')
    expect(out, 'unavailable', 503)
    assert len(rs.messages) == 1 and rs.messages[0]['threaded'] is False
    answer_id = rs.messages[0]['answer_id']
    assert answers(rs) == [] and rs.outbox == []
    rs.members[0].state = 'primary'
    out = ingest(rs, 'HELP')
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['result']['answered'] is True, out
    assert [m['_id'] for m in answers(rs)] == [answer_id]
    assert [e['_id'] for e in rs.outbox] == [answer_id], rs.outbox
    assert 'threaded' not in rs.messages[0]
    out = ingest(rs, 'HELP')
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is True, out
    assert out['result']['answered'] is False, out
    assert len(answers(rs)) == 1 and len(rs.outbox) == 1


def test_failure_after_the_answer_is_queued_keeps_one(rs):
    """The server dies once the answer is queued, before the message is
    finished: the retry finds the answer, its events and its outbox entry
    and writes none of them again."""
    rs.members[0].faults.append((('update', 'messages'), go_down))
    out = ingest(rs, 'HELP')
    expect(out, 'unavailable', 503)
    assert len(answers(rs)) == 1 and len(rs.outbox) == 1
    events = len(rs.events)
    assert events == 5, rs.events
    rs.members[0].state = 'primary'
    out = ingest(rs, 'HELP')
    expect(out, 'ok', 200)
    assert out['result']['duplicate'] is False, out
    assert out['result']['answered'] is True, out
    assert out['events'] == [], out
    assert len(answers(rs)) == 1 and len(rs.outbox) == 1
    assert len(rs.events) == events
    assert 'threaded' not in rs.messages[0]


def test_silent_server_is_unavailable_before_the_carrier_gives_up(rs):
    """A partition: the connection stays open and no answer comes.  The
    driver's own socket timeout is 5 minutes; the store's is 5 s."""
    rs.members[0].faults.append((('insert', 'messages'), go_silent))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert out['ms'] < CARRIER_PATIENCE_MS, out
    assert out['events'] == [] and rs.messages == []


def test_not_primary_retries_on_the_new_primary_once(rs):
    """The primary steps down as the message arrives: it refuses the
    insert (NotWritablePrimary), the driver finds the new primary and
    sends the insert there, same transaction: stored once, events once."""
    old, new = rs.members
    old.faults.append((('insert', 'messages'), step_down_to(new)))
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3], out
    sent = rs.writes_of('insert', 'messages')
    assert [m for m, _ in sent] == [old, new], sent
    assert sent[0][1] == sent[1][1], 'resent with another txnNumber'
    assert len(rs.messages) == 1 and rs.conversation_writes == 1
    assert all(m is new for m, _ in rs.writes_of('insert', 'events'))


def test_not_primary_without_a_new_one_is_unavailable(rs):
    """No primary is elected before server selection gives up: 503, and
    nothing was stored (never a success without the write)."""
    old, _ = rs.members
    old.faults.append((('insert', 'messages'), step_down_to(None)))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert out['ms'] < CARRIER_PATIENCE_MS, out
    assert out['events'] == [] and rs.messages == []
    assert rs.conversation_writes == 0 and rs.seq == 0


def test_lost_answer_of_mark_read_still_pushes_its_events(rs):
    """Marking a thread read whose answer is lost: sent again as the
    same transaction it gets the first answer (the thread was unread), not
    a second look that finds it read and tells the browsers nothing."""
    expect(ingest(rs), 'ok', 200)
    rs.members[0].faults.append((('findAndModify', 'conversations'),
                                 lose_answer))
    out = run(rs, 'mark-read', str(ORG), str(rs.conversation))
    expect(out, 'ok', 200)
    assert out['result']['unread_count'] == 0, out
    assert out['events'] == [4, 5], out
    assert rs.unread == 0 and rs.conversation_writes == 2
    sent = rs.writes_of('findAndModify', 'conversations')[1:]
    assert len(sent) == 2 and sent[0][1] is not None, sent
    assert sent[0][1] == sent[1][1], 'resent with another txnNumber'


def test_token_lookup_is_retried_after_a_lost_connection(rs):
    """A read is retried too: the API request is answered, not refused
    as if its token were unknown."""
    rs.members[0].faults.append((('find', 'tokens'), hang_up))
    out = run(rs, 'token-find', TOKEN_HASH)
    expect(out, 'ok', 200)
    assert out['result']['org_id'] == str(ORG), out


def test_token_lookup_of_a_gone_server_is_unavailable(rs):
    """A server that is gone is a 503, never a 401 that would sign the
    caller out."""
    rs.members[0].faults.append((('find', 'tokens'), go_down))
    out = run(rs, 'token-find', TOKEN_HASH)
    expect(out, 'unavailable', 503)


def test_ping_writes_the_health_record(rs):
    """/healthz: an update the server answers with n, the records it
    matched; none (a dropped database) is unavailable."""
    expect(run(rs, 'ping'), 'ok', 200)
    assert 'checked_at' in rs.health, rs.health
    rs.health = None
    out = run(rs, 'ping')
    expect(out, 'unavailable', 503)
    assert 'health record' in out['message'], out


def test_pause_as_the_sender_pauses_for_credits_is_a_pause(rs):
    """A person pauses a campaign as the sender pauses it for credits:
    the pause's write, from sending, misses.  The campaign is read again
    and paused by the person (as SQLite answers a pause of a campaign
    paused for credits), not refused with 409."""
    rs.campaign('sending')
    rs.members[0].faults.append((('update', 'campaigns'),
                                 before(sender_pauses_for_credits)))
    out = run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'pause')
    expect(out, 'ok', 200)
    assert out['result']['status'] == 'paused', out
    assert out['result']['paused_reason'] == 'manual', out
    assert rs.campaigns[0]['paused_reason'] == 'manual', rs.campaigns


def test_cancel_as_the_sender_pauses_for_credits_cancels(rs):
    """A cancel as the sender pauses the campaign for credits is a
    cancel: the campaign cancelled, the recipients left with it."""
    rs.campaign('sending')
    left = rs.recipient('due')
    rs.members[0].faults.append((('update', 'campaigns'),
                                 before(sender_pauses_for_credits)))
    out = run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'cancel')
    expect(out, 'ok', 200)
    assert out['result']['status'] == 'cancelled', out
    assert rs.campaigns[0]['status'] == 'cancelled', rs.campaigns
    assert left['state'] == 'cancelled', left


def test_cancel_as_the_sender_finishes_is_refused_as_done(rs):
    """A cancel as the sender finishes the campaign: 409 because a done
    campaign cannot be cancelled, and nothing of it changes."""
    rs.campaign('sending')
    rs.members[0].faults.append((('update', 'campaigns'),
                                 before(sender_finishes)))
    out = run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'cancel')
    expect(out, 'conflict', 409)
    assert out['message'] == 'A done campaign cannot be cancelled.', out
    assert rs.campaigns[0]['status'] == 'done', rs.campaigns


def test_dispatch_hands_a_recipient_over(rs):
    """The sender's turn at a campaign sending: its recipient's message
    in the thread, held, in the outbox; the campaign still sending.  The
    turn begins with an update pipeline (the scheduled campaigns whose
    time came start), which the driver's bulk API takes as the array of
    its stages: sent as a document it was refused as malformed, and
    every turn failed.  Its first hand-over marks the campaign
    (handed_at), which no delete then removes."""
    rs.campaign('sending')['handed_at'] = None
    recipient = rs.recipient('due')
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    expect(out, 'ok', 200)
    assert out['result']['handed'] == 1, out
    assert len(rs.messages) == 1 and len(rs.outbox) == 1
    assert rs.messages[0]['campaign_id'] == CAMPAIGN
    assert rs.messages[0]['campaign_kind'] == 'campaign', rs.messages
    assert recipient['state'] == 'queued', recipient
    assert rs.balance == 9 and rs.held == 1
    assert rs.campaigns[0]['status'] == 'sending', rs.campaigns
    assert rs.campaigns[0]['handed_at'] == NOON, rs.campaigns


def test_dispatch_counts_the_campaigns_it_started(rs):
    """A scheduled campaign whose time came is started by the sender's
    turn, and the turn counts it (the sender then brings the campaign's
    progress forward and logs it): the count is the nModified of the
    server's reply to the update that starts them."""
    rs.campaign('scheduled')['started_at'] = None
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    expect(out, 'ok', 200)
    assert rs.campaigns[0]['started_at'] == NOON, rs.campaigns
    assert out['result']['started'] == 1, out
    # no recipient: done in the same turn
    assert out['result']['finished'] == 1, out
    assert rs.campaigns[0]['status'] == 'done', rs.campaigns


def test_import_of_new_numbers_makes_contacts_with_threads(rs):
    """An import of two numbers that are no contacts yet makes both,
    each with its own thread (where a campaign's message to it goes),
    and counts them created: the server's reply to the upserts names the
    ones it inserted ("upserted"); each is pushed (contact.updated
    naming its thread), so that every Contacts list shows it.  Imported
    again, they are counted updated, no thread is made twice and nothing
    is pushed."""
    phones = '+15551230001,+15551230002'
    out = run(rs, 'contacts-import', str(ORG), phones)
    expect(out, 'ok', 200)
    assert [c['phone'] for c in rs.contacts] == phones.split(','), rs.contacts
    threads = {t['_id']: t for t in rs.conversations}
    for contact in rs.contacts:
        thread = threads.get(contact['conversation_id'])
        assert thread is not None, 'no thread for %r' % contact
        assert field(thread, 'contact.id') == contact['_id'], thread
    assert counts(out) == (2, 0), out
    assert out['events'] == [1, 2], out
    assert [(e['type'], e['conversation_id']) for e in rs.events] == [
        ('contact.updated', c['conversation_id']) for c in rs.contacts
    ], rs.events

    out = run(rs, 'contacts-import', str(ORG), phones)
    expect(out, 'ok', 200)
    assert counts(out) == (0, 2), out
    assert out['events'] == [] and len(rs.events) == 2, out
    assert len(rs.contacts) == 2 and len(rs.conversations) == 2


def import_finished(rs, out, phones):
    """An import of the new numbers phones answered as the first one:
    each contact with its own thread, counted created, pushed once
    (contact.updated naming its thread), announced."""
    expect(out, 'ok', 200)
    assert [c['phone'] for c in rs.contacts] == phones.split(','), rs.contacts
    threads = {t['_id']: t for t in rs.conversations}
    for contact in rs.contacts:
        thread = threads.get(contact['conversation_id'])
        assert thread is not None, 'no thread for %r' % contact
        assert field(thread, 'contact.id') == contact['_id'], thread
        assert 'unannounced' not in contact, contact
    assert counts(out) == (2, 0), out
    assert [(e['type'], e['conversation_id']) for e in rs.events] == [
        ('contact.updated', c['conversation_id']) for c in rs.contacts
    ], rs.events


def test_import_failed_before_its_threads_is_finished_by_the_retry(rs):
    """The server dies on the threads' upserts of an import of two new
    numbers: the contacts are made, unannounced, without threads and
    unpushed, and the import fails.  The retry finds them unannounced
    and finishes them as the first attempt would have: each gets its
    thread and is pushed once, both counted created; once announced,
    the same import again makes no thread and pushes nothing."""
    phones = '+15551230001,+15551230002'
    rs.members[0].faults.append((('update', 'conversations'), go_down))
    out = run(rs, 'contacts-import', str(ORG), phones)
    expect(out, 'unavailable', 503)
    assert [c['phone'] for c in rs.contacts] == phones.split(','), rs.contacts
    assert all(c.get('unannounced') is True for c in rs.contacts), rs.contacts
    assert rs.conversations == [] and rs.events == [], rs.conversations
    rs.members[0].state = 'primary'
    out = run(rs, 'contacts-import', str(ORG), phones)
    import_finished(rs, out, phones)
    assert out['events'] == [1, 2], out

    out = run(rs, 'contacts-import', str(ORG), phones)
    expect(out, 'ok', 200)
    assert counts(out) == (0, 2), out
    assert out['events'] == [] and len(rs.events) == 2, out
    assert len(rs.contacts) == 2 and len(rs.conversations) == 2


def test_import_failed_before_its_events_is_pushed_by_the_retry(rs):
    """The server dies on the first event of an import of two new
    numbers, their threads made: the retry pushes both, once each, and
    counts them created."""
    phones = '+15551230001,+15551230002'
    rs.members[0].faults.append((('insert', 'events'), go_down))
    out = run(rs, 'contacts-import', str(ORG), phones)
    expect(out, 'unavailable', 503)
    assert len(rs.conversations) == 2 and rs.events == [], rs.events
    rs.members[0].state = 'primary'
    out = run(rs, 'contacts-import', str(ORG), phones)
    import_finished(rs, out, phones)
    # the first attempt took the organization's first number
    assert out['events'] == [2, 3], out


def test_text_pushes_a_contact_a_failed_import_made(rs):
    """An import of a new number fails before its thread; nobody retries
    it, the number texts: its text makes its thread and pushes the
    contact with the message's events, as a new number's first text
    does, and announces it; an import of it then counts it updated and
    pushes nothing."""
    rs.members[0].faults.append((('update', 'conversations'), go_down))
    out = run(rs, 'contacts-import', str(ORG), PHONE)
    expect(out, 'unavailable', 503)
    assert rs.contacts[0].get('unannounced') is True, rs.contacts
    rs.members[0].state = 'primary'
    rs.sender_known = False
    rs.contact = rs.contacts[0]['_id']
    rs.conversation = rs.contacts[0]['conversation_id']
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [1, 2, 3, 4], out
    assert rs.events[3]['type'] == 'contact.updated', rs.events
    assert 'unannounced' not in rs.contacts[0], rs.contacts
    out = run(rs, 'contacts-import', str(ORG), PHONE)
    expect(out, 'ok', 200)
    assert counts(out) == (0, 1), out
    assert out['events'] == [], out


def test_import_pushes_a_contact_a_failed_text_made(rs):
    """A new number's text fails after its contact is made, before the
    message is stored; the number is then imported: the import finds
    the contact unannounced, gives it its thread, pushes it and counts
    it created, as if the text had never come; the carrier's retry of
    the text then pushes its message alone."""
    rs.sender_known = False
    rs.members[0].faults.append((('insert', 'messages'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert rs.contacts[0].get('unannounced') is True, rs.contacts
    rs.members[0].state = 'primary'
    out = run(rs, 'contacts-import', str(ORG), PHONE)
    expect(out, 'ok', 200)
    assert counts(out) == (1, 0), out
    assert out['events'] == [1], out
    assert [t['_id'] for t in rs.conversations] == [
        rs.contacts[0]['conversation_id']], rs.conversations
    assert 'unannounced' not in rs.contacts[0], rs.contacts
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [2, 3, 4], out
    assert len(rs.contacts) == 1, rs.contacts


def test_ledger_names_whom_each_entry_was_for(rs):
    """The billing ledger page names, for each entry, the contact of its
    message's thread, the campaign it was sent for and, for a release,
    why it failed: read through the driver by _id $in, each read with
    its projection applied as a server applies it, so that a field the
    page shows and the projection leaves out would be missing here.
    The messages' bodies and media, the thread's last message and the
    campaign's text are not read."""
    rs.campaign('running')
    rs.conversations.append({
        '_id': rs.conversation, 'org_id': ORG,
        'contact': {'id': rs.contact, 'name': 'Ana Lima',
                    'search_name': 'ana lima', 'phone': PHONE,
                    'opted_out': False, 'version': 2},
        'last_message': {'id': ObjectId(), 'direction': 'outbound',
                         'preview': 'Sale!', 'at': NOON},
        'last_activity_at': NOON, 'unread_count': 0,
        'archived': False, 'starred': False})
    sent = {'_id': ObjectId(), 'org_id': ORG, 'provider_id': SID,
            'conversation_id': rs.conversation, 'contact_id': rs.contact,
            'campaign_id': CAMPAIGN, 'campaign_kind': 'campaign',
            'direction': 'outbound', 'body': 'Sale! ' * 200,
            'media': [{'url': 'https://example.com/a.jpg',
                       'content_type': 'image/jpeg', 'state': 'stored',
                       'file': 'a.jpg', 'bytes': 40000}],
            'status': 'delivered', 'credits': 1, 'created_at': NOON}
    failed = dict(sent, _id=ObjectId(), provider_id=SID2,
                  status='failed', error_code='30007')
    rs.messages.extend([sent, failed])
    minute = datetime.timedelta(minutes=1)
    rs.ledger.extend([
        {'_id': ObjectId(), 'org_id': ORG, 'kind': 'release',
         'credits': 1, 'balance': 10, 'held': 0,
         'message_id': failed['_id'], 'created_at': NOON + minute},
        {'_id': ObjectId(), 'org_id': ORG, 'kind': 'capture',
         'credits': 1, 'balance': 9, 'held': 1,
         'message_id': sent['_id'], 'created_at': NOON}])
    out = run(rs, 'ledger-list', str(ORG), '50')
    expect(out, 'ok', 200)
    items = json.loads(out['result']['page'])['items']
    campaign = {'id': str(CAMPAIGN), 'kind': 'campaign',
                'name': 'Spring sale'}
    assert [(i['kind'], i['message_id'], i['conversation_id'],
             i['contact'] and (i['contact']['name'],
                               i['contact']['phone']),
             i['campaign'], i['error_code']) for i in items] == [
        ('release', str(failed['_id']), str(rs.conversation),
         ('Ana Lima', PHONE), campaign, '30007'),
        ('capture', str(sent['_id']), str(rs.conversation),
         ('Ana Lima', PHONE), campaign, None)], items
    read = dict(rs.reads)
    assert not {'body', 'media'} & set(read['messages'] or ['body']), read
    assert 'last_message' not in (read['conversations'] or
                                  ['last_message']), read
    assert 'body' not in (read['campaigns'] or ['body']), read


def test_import_pushes_every_field_of_the_contact_it_finds(rs):
    """An import meets a contact a failed text made (unannounced), which
    was tagged, opted out and given a timezone since: its contact.updated
    shows every field of the contact's record as stored, the contacts
    and their threads read by _id $in with their projections applied as
    a server applies them (a field the frame shows left out of one would
    be missing here), the contact's search keys not read."""
    thread = ObjectId()
    rs.contacts.append({
        '_id': rs.contact, 'org_id': ORG, 'phone': PHONE, 'name': 'Ana',
        'search_name': 'ana', 'opted_out': True,
        'opted_out_at': NOON, 'opt_out_source': 'keyword',
        'opt_out_keyword': 'STOP', 'opt_latest_at': NOON,
        'timezone': 'America/Chicago', 'tags': ['VIP', 'Spring'],
        'tag_keys': ['vip', 'spring'], 'conversation_id': thread,
        'created_at': NOON, 'unannounced': True})
    out = run(rs, 'contacts-import', str(ORG), PHONE)
    expect(out, 'ok', 200)
    assert counts(out) == (1, 0), out
    frames = [json.loads(f) for f in out['result']['frames']]
    assert [f['type'] for f in frames] == ['contact.updated'], frames
    contact = frames[0]['contact']
    assert {k: contact[k] for k in (
        'id', 'name', 'phone', 'tags', 'opted_out', 'opted_out_at',
        'opt_out_source', 'opt_out_keyword', 'timezone', 'created_at',
        'conversation_id')} == {
        'id': str(rs.contact), 'name': 'Ana', 'phone': PHONE,
        'tags': ['VIP', 'Spring'], 'opted_out': True,
        'opted_out_at': '2026-01-01T12:00:00.000Z',
        'opt_out_source': 'keyword', 'opt_out_keyword': 'STOP',
        'timezone': 'America/Chicago',
        'created_at': '2026-01-01T12:00:00.000Z',
        'conversation_id': str(thread)}, contact
    read = dict(rs.reads)
    assert read['contacts'] is not None and not {
        'tag_keys', 'search_name'} & set(read['contacts']), read


def test_hand_add_pushes_a_contact_a_failed_text_made(rs):
    """A new number's text fails after its contact is made, before the
    message is stored: the contact is in no Contacts list.  A person
    then adds the number by hand: it is a contact already (409), and
    the add gives it its thread and pushes it (contact.updated naming
    that thread) and announces it, as the text's retry would have;
    added again it is pushed no more, and the carrier's retry of the
    text then pushes its message alone."""
    rs.sender_known = False
    rs.members[0].faults.append((('insert', 'messages'), go_down))
    out = ingest(rs)
    expect(out, 'unavailable', 503)
    assert rs.contacts[0].get('unannounced') is True, rs.contacts
    rs.members[0].state = 'primary'
    out = run(rs, 'contact-create', str(ORG), PHONE)
    expect(out, 'conflict', 409)
    assert out['result'] == {'field': 'phone'}, out
    assert out['events'] == [1], out
    conversation = rs.contacts[0]['conversation_id']
    assert [(e['type'], e['conversation_id']) for e in rs.events] == [
        ('contact.updated', conversation)], rs.events
    assert [field(t, 'contact.id') for t in rs.conversations
            if t['_id'] == conversation] == [rs.contacts[0]['_id']], (
        rs.conversations)
    assert 'unannounced' not in rs.contacts[0], rs.contacts
    assert len(rs.contacts) == 1, rs.contacts
    out = run(rs, 'contact-create', str(ORG), PHONE)
    expect(out, 'conflict', 409)
    assert out['events'] == [] and len(rs.events) == 1, out
    out = ingest(rs)
    expect(out, 'ok', 200)
    assert out['events'] == [2, 3, 4], out
    assert [e['type'] for e in rs.events[1:]] == [
        'message.created', 'conversation.updated', 'unread.total'], rs.events


def outbox_entry(rs, segments, due, attempts=0, lease_until=None):
    """A reply of segments segments from the organization's number, due
    at due, and its outbox entry."""
    message = {'_id': ObjectId(), 'org_id': ORG, 'direction': 'outbound',
               'status': 'queued', 'contact_id': rs.contact,
               'conversation_id': rs.conversation, 'created_at': due}
    # no carrier's id yet: one of its own, which no report names
    message['provider_id'] = 'queued-%s' % message['_id']
    rs.messages.append(message)
    entry = {'_id': ObjectId(), 'org_id': ORG, 'message_id': message['_id'],
             'priority': 0, 'from': NUMBER, 'segments': segments,
             'due_at': due, 'attempts': attempts, 'lease_until': lease_until,
             'last_error': None, 'created_at': due}
    rs.outbox.append(entry)
    return entry


def test_claim_puts_back_at_once_what_its_number_cannot_start(rs):
    """The number has two segments left (a full bucket of two) and two
    replies due: one of one segment, then one of two, whose lease ran
    out once before.  The claim takes the first; it learns the second
    is two segments only as it leases it, one segment left: it puts it
    back at once as it was (due, attempt and lease as before, one
    update), not left leased for a sender that cannot start it, and
    says some were passed over.  A later claim with two left takes
    it."""
    short = outbox_entry(rs, 1, NOON - datetime.timedelta(minutes=1))
    ran_out = NOON - datetime.timedelta(seconds=30)
    long = outbox_entry(rs, 2, ran_out, attempts=1, lease_until=ran_out)
    as_it_was = copy.deepcopy(long)
    leased = NOON + datetime.timedelta(seconds=30)

    out = run(rs, 'outbox-claim', NOON_MS, '2')
    expect(out, 'ok', 200)
    assert out['result'] == {'claimed': [str(short['message_id'])],
                             'passed_over': True}, out
    assert long == as_it_was, long
    assert (short['attempts'], short['lease_until']) == (1, leased), short
    assert len(rs.writes_of('update', 'outbox')) == 1, rs.writes

    out = run(rs, 'outbox-claim', NOON_MS, '2')
    expect(out, 'ok', 200)
    assert out['result'] == {'claimed': [str(long['message_id'])],
                             'passed_over': False}, out
    assert (long['attempts'], long['lease_until']) == (2, leased), long


def test_claim_after_a_cancel_hands_nothing_over(rs):
    """A person cancels as the sender claims a recipient: the cancel's
    status is written, then the claim, then the cancel's update of the
    recipients not claimed misses it.  Nothing goes to the contact's
    thread nor to the outbox, no credit is held: the recipient is
    cancelled as those left are."""
    rs.campaign('sending')
    recipient = rs.recipient('due')

    def cancel_begins(rs):
        rs.campaigns[0].update(status='cancelled', finished_at=NOON)

    rs.members[0].faults.append((('update', 'campaign_recipients'),
                                 before(cancel_begins)))
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    # the cancel's end: those not handed over
    rs._update('campaign_recipients', [{
        'q': {'campaign_id': CAMPAIGN,
              'state': {'$in': ['due', 'waiting_quiet_hours']}},
        'u': {'$set': {'state': 'cancelled'}}, 'multi': True}])
    expect(out, 'ok', 200)
    assert out['result']['handed'] == 0, out
    assert out['events'] == [], out
    assert rs.messages == [] and rs.outbox == [] and rs.ledger == []
    assert rs.balance == 10 and rs.held == 0
    assert recipient['state'] == 'cancelled', recipient
    assert recipient['message_id'] is None, recipient


def kept_counts(campaign):
    """The counts a campaign keeps, those not 0."""
    return {k: v for k, v in campaign['counts'].items() if v}


def grouped_counts(rs):
    """The campaign's recipients grouped by state, as counted (due ones
    are queued): what its kept counts must say."""
    counts = {}
    for r in rs.recipients:
        key = 'queued' if r['state'] == 'due' else r['state']
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_claim_after_a_cancel_keeps_the_counts(rs):
    """The counts a campaign keeps follow its recipient through a claim
    a cancel undoes (queued, then cancelled): they say what its
    recipients grouped by state say, without reading them."""
    rs.campaign('sending')['counts'] = {'queued': 1}
    recipient = rs.recipient('due')

    def cancel_begins(rs):
        rs.campaigns[0].update(status='cancelled', finished_at=NOON)

    rs.members[0].faults.append((('update', 'campaign_recipients'),
                                 before(cancel_begins)))
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    expect(out, 'ok', 200)
    assert recipient['state'] == 'cancelled', recipient
    assert kept_counts(rs.campaigns[0]) == {'cancelled': 1}, rs.campaigns
    assert kept_counts(rs.campaigns[0]) == grouped_counts(rs)


def test_cancel_counts_those_left_cancelled(rs):
    """A cancel moves the recipients not handed over, due or waiting for
    quiet hours, to cancelled, and their counts with them; the campaign
    read after it has its counts from its own document."""
    rs.campaign('sending')['counts'] = {'queued': 1,
                                        'waiting_quiet_hours': 1}
    rs.recipient('due')
    rs.recipient('waiting_quiet_hours')
    out = run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'cancel')
    expect(out, 'ok', 200)
    assert kept_counts(rs.campaigns[0]) == {'cancelled': 2}, rs.campaigns
    assert kept_counts(rs.campaigns[0]) == grouped_counts(rs)
    assert out['result']['counts']['cancelled'] == 2, out


def test_claim_after_a_pause_leaves_the_recipient_due(rs):
    """A person pauses as the sender claims a recipient: nothing is
    handed over, and the recipient is due again for the resume."""
    rs.campaign('sending')
    recipient = rs.recipient('due')

    def person_pauses(rs):
        rs.campaigns[0].update(status='paused', paused_reason='manual')

    rs.members[0].faults.append((('update', 'campaign_recipients'),
                                 before(person_pauses)))
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    expect(out, 'ok', 200)
    assert out['result']['handed'] == 0, out
    assert rs.messages == [] and rs.outbox == [] and rs.ledger == []
    assert recipient['state'] == 'due', recipient
    assert recipient['message_id'] is None, recipient
    assert rs.campaigns[0]['status'] == 'paused', rs.campaigns


def test_dispatch_reaches_every_sending_campaign(rs):
    """150 campaigns sending at once, more than a server's first batch
    (101): the one started last still hands its recipient over, and the
    149 with nothing left are done, every one, with no cursor left open
    on the server."""
    for i in range(150):
        rs.campaign('sending').update(
            _id=ObjectId('64f1a00000000000000%05x' % (0x10000 + i)),
            started_at=NOON - datetime.timedelta(minutes=150 - i))
    last = rs.campaigns[-1]
    recipient = rs.recipient('due')
    recipient['campaign_id'] = last['_id']
    out = run(rs, 'campaign-dispatch', NOON_MS, '10',
              'https://inbox.test')
    expect(out, 'ok', 200)
    assert out['result']['handed'] == 1, out
    assert recipient['state'] == 'queued', recipient
    assert len(rs.outbox) == 1 and rs.messages[0]['campaign_id'] == last['_id']
    assert out['result']['finished'] == 149, out
    assert [c['status'] for c in rs.campaigns] == ['done'] * 149 + [
        'sending'], [c['status'] for c in rs.campaigns]
    assert rs.cursors == {}, rs.cursors


def test_reply_whose_hold_fails_is_accepted_when_retried(rs):
    """A reply's hold is applied but not confirmed (a writeConcernError
    on the organization's $inc): 503, the credit given back and the
    Idempotency-Key let go.  The client's retry with the same key is
    accepted (not 409 for a day) and holds its credit once."""
    rs.contact_doc()
    rs.members[0].faults.append((('findAndModify', 'orgs'), unconfirmed))
    conversation = str(rs.conversation)
    out = run(rs, 'reply', str(ORG), conversation, 'On my way', 'k-1')
    expect(out, 'unavailable', 503)
    assert rs.messages == [] and rs.reply_keys == [], rs.reply_keys
    assert rs.balance == 10 and rs.held == 0, (rs.balance, rs.held)
    out = run(rs, 'reply', str(ORG), conversation, 'On my way', 'k-1')
    expect(out, 'ok', 200)
    assert out['result']['repeated'] is False, out
    assert [str(m['_id']) for m in rs.messages] == [
        out['result']['message_id']], rs.messages
    assert rs.balance == 9 and rs.held == 1, (rs.balance, rs.held)
    assert [e['kind'] for e in rs.ledger] == ['hold', 'release', 'hold']
    # the same request again: its message, nothing held twice
    out = run(rs, 'reply', str(ORG), conversation, 'On my way', 'k-1')
    expect(out, 'ok', 200)
    assert out['result']['repeated'] is True, out
    assert rs.balance == 9 and rs.held == 1 and len(rs.messages) == 1


def test_rename_whose_copy_failed_is_repaired_by_the_retry(rs):
    """A rename reaches the contact and the server dies before its
    thread's copy (which the thread list shows and searches) is written:
    503.  The retry, which changes nothing of the contact, writes the
    copy: not left with the old name for good."""
    contact, thread = rs.contact_doc(), rs.thread_doc()
    rs.members[0].faults.append((('update', 'conversations'), go_down))
    args = ('contact-rename', str(ORG), str(rs.contact), 'Ann Lee')
    expect(run(rs, *args), 'unavailable', 503)
    assert contact['name'] == 'Ann Lee', contact
    assert thread['contact']['name'] is None, thread
    rs.members[0].state = 'primary'
    out = run(rs, *args)
    expect(out, 'ok', 200)
    assert out['events'] == [], out
    assert thread['contact']['name'] == 'Ann Lee', thread
    assert thread['contact']['search_name'] == 'annlee', thread
    assert thread['contact']['version'] == contact['version'], thread


def test_rename_copy_older_than_the_contact_is_not_written(rs):
    """Two renames at once: the one that wrote the contact last wins its
    thread's copy too, even when the other's copy write comes after
    it."""
    contact, thread = rs.contact_doc(), rs.thread_doc()
    expect(run(rs, 'contact-rename', str(ORG), str(rs.contact), 'Ann'),
           'ok', 200)
    assert thread['contact']['name'] == 'Ann', thread

    def newer_rename(rs):
        contact.update(name='Bo', search_name='bo',
                       version=contact.get('version', 0) + 1)
        thread['contact'].update(name='Bo', search_name='bo',
                                 version=contact['version'])

    rs.members[0].faults.append((('update', 'conversations'),
                                 before(newer_rename)))
    expect(run(rs, 'contact-rename', str(ORG), str(rs.contact), 'Cy'),
           'ok', 200)
    assert contact['name'] == 'Bo', contact
    assert thread['contact']['name'] == 'Bo', thread


def test_import_rename_overtaking_a_rename_keeps_its_name(rs):
    """A person renames a contact (Cy) and, before that rename's copy
    reaches the thread, an import renames it again (Ann Lee), its copy
    first.  The import moves the contact's version as a rename does, so
    the person's late copy, older, is not written: the thread shows the
    name the contact has, not the one it had."""
    contact, thread = rs.contact_doc(), rs.thread_doc()

    def person_renames(rs):
        contact.update(name='Cy', search_name='cy',
                       version=contact.get('version', 0) + 1)

    rs.members[0].faults.append((('update', 'contacts'),
                                 before(person_renames)))
    out = run(rs, 'contacts-import', str(ORG), PHONE + '=Ann Lee')
    expect(out, 'ok', 200)
    assert contact['name'] == 'Ann Lee' and contact['version'] == 2, contact
    assert thread['contact']['name'] == 'Ann Lee', thread
    assert thread['contact']['version'] == 2, thread
    # the person's rename writes its copy now, at the version it made
    rs._upsert('conversations', [{
        'q': {'_id': rs.conversation, 'org_id': ORG,
              'contact.version': {'$not': {'$gte': 1}}},
        'u': {'$set': {'contact.name': 'Cy', 'contact.search_name': 'cy',
                       'contact.opted_out': False, 'contact.version': 1}}}])
    assert thread['contact']['name'] == 'Ann Lee', thread


def test_opt_out_whose_copy_failed_is_repaired_by_the_retry(rs):
    """A person's opt-out reaches the contact and the server dies before
    the thread's copy is written: the retry, an opt-out of a contact
    opted out already, writes the copy and the timeline entry, once."""
    contact, thread = rs.contact_doc(), rs.thread_doc()
    rs.members[0].faults.append((('update', 'conversations'), go_down))
    args = ('opt-out', str(ORG), str(rs.contact))
    expect(run(rs, *args), 'unavailable', 503)
    assert contact['opted_out'] is True, contact
    assert thread['contact']['opted_out'] is False, thread
    assert rs.contact_events == [], rs.contact_events
    rs.members[0].state = 'primary'
    out = run(rs, *args)
    expect(out, 'ok', 200)
    assert out['result']['opted_out'] is True, out
    assert thread['contact']['opted_out'] is True, thread
    # and its timeline entry, once, however often it is retried
    out = run(rs, *args)
    expect(out, 'ok', 200)
    assert [e['type'] for e in rs.contact_events] == ['opt_out'], \
        rs.contact_events


def test_capture_stopped_before_the_credits_moved_is_finished_once(rs):
    """The holds job marks an expired hold settling and the server
    refuses the organization's $inc: the credit is neither captured nor
    held by the message any more.  The next run, once the settler's
    lease (a minute) is over, finishes it: captured once, one ledger
    entry; the run after it changes nothing."""
    message = held_message(rs)
    rs.members[0].faults.append((('findAndModify', 'orgs'), refuse))
    out = holds_job(rs, datetime.timedelta(0))
    assert out['status'] != 'ok', out
    assert message['held'] is False, message
    assert (rs.balance, rs.held) == (9, 1) and rs.ledger == []
    # within the lease: the settler's still
    expect(holds_job(rs, datetime.timedelta(seconds=30)), 'ok', 200)
    assert rs.held == 1 and rs.ledger == []
    expect(holds_job(rs, datetime.timedelta(minutes=2)), 'ok', 200)
    assert_captured_once(rs, message)
    expect(holds_job(rs, datetime.timedelta(minutes=4)), 'ok', 200)
    assert_captured_once(rs, message)


def test_capture_stopped_after_the_credits_moved_moves_them_once(rs):
    """The $inc is applied and the ledger entry refused: the recovery
    finds the message's id in the organization's pending settlements,
    moves nothing again (held 0, not -1) and writes the entry."""
    message = held_message(rs)
    rs.members[0].faults.append((('insert', 'ledger'), refuse))
    out = holds_job(rs, datetime.timedelta(0))
    assert out['status'] != 'ok', out
    assert (rs.balance, rs.held) == (9, 0) and rs.ledger == []
    expect(holds_job(rs, datetime.timedelta(minutes=2)), 'ok', 200)
    assert_captured_once(rs, message)
    assert rs.ledger[0]['balance'] == 9 and rs.ledger[0]['held'] == 0


def test_capture_stopped_after_its_entry_writes_it_once(rs):
    """The entry written and the organization's update that ends the
    settlement refused: the recovery finds the entry and only ends it,
    with no second entry and nothing moved again."""
    message = held_message(rs)
    rs.members[0].faults.append((('update', 'orgs'), refuse))
    out = holds_job(rs, datetime.timedelta(0))
    assert out['status'] != 'ok', out
    assert len(rs.ledger) == 1 and rs.held == 0
    expect(holds_job(rs, datetime.timedelta(minutes=2)), 'ok', 200)
    assert_captured_once(rs, message)


def parked_campaign_message(rs):
    """The campaign sending, its one message in the outbox not claimed,
    holding the organization's last credit."""
    rs.campaign('sending')
    recipient = rs.recipient('queued')
    message = {'_id': ObjectId(), 'org_id': ORG, 'direction': 'outbound',
               'status': 'queued', 'contact_id': rs.contact,
               'conversation_id': rs.conversation, 'to': PHONE,
               'body': 'Sale!', 'credits': 1, 'segments': 1, 'held': True,
               'campaign_id': CAMPAIGN, 'created_at': NOON}
    message['provider_id'] = 'queued-%s' % message['_id']
    recipient['message_id'] = message['_id']
    rs.messages.append(message)
    entry = {'_id': ObjectId(), 'org_id': ORG, 'message_id': message['_id'],
             'campaign_id': CAMPAIGN, 'priority': 1, 'from': NUMBER,
             'segments': 1, 'due_at': NOON, 'attempts': 0,
             'lease_until': None, 'last_error': None, 'created_at': NOON}
    rs.outbox.append(entry)
    rs.balance, rs.held = 0, 1
    return message, entry


def pause_release_hold_again(rs):
    """A person pauses the campaign: its message parked, its credit
    given back (the release keyed by the message's id, as before).  The
    resume makes it due; the claim holds it again before it hands it
    out, its holds counted."""
    message, entry = parked_campaign_message(rs)

    expect(run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'pause'),
           'ok', 200)
    assert entry['due_at'] == datetime.datetime.max, entry
    assert message['held'] is False and 'settling' not in message, message
    assert (rs.balance, rs.held) == (1, 0), (rs.balance, rs.held)
    assert [(e['_id'], e['kind']) for e in rs.ledger] == [
        (message['_id'], 'release')], rs.ledger
    assert rs.pending == [], rs.pending

    expect(run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'resume'),
           'ok', 200)
    assert entry['due_at'] != datetime.datetime.max, entry
    entry['due_at'] = NOON          # due on the test's clock

    out = run(rs, 'outbox-claim', NOON_MS, '10')
    expect(out, 'ok', 200)
    assert out['result']['claimed'] == [str(message['_id'])], out
    assert message['held'] is True and message['holds'] == 1, message
    assert (rs.balance, rs.held) == (0, 1), (rs.balance, rs.held)
    assert [e['kind'] for e in rs.ledger] == ['release', 'hold'], rs.ledger

    # the carrier took it four days ago and never said more
    message.update(status='sent', provider='twilio', provider_id=SID,
                   submitted_at=NOON - datetime.timedelta(days=4))
    return message


def assert_held_again_and_captured(rs, message):
    """The hold taken again captured once, apart from the release: its
    own entry, unique by (message_id, hold), its key out of pending."""
    assert [e['kind'] for e in rs.ledger] == [
        'release', 'hold', 'capture'], rs.ledger
    capture = rs.ledger[2]
    assert capture['_id'] != message['_id'], capture
    assert (capture['message_id'], capture['hold']) == (message['_id'], 1)
    assert (capture['balance'], capture['held']) == (0, 0), capture
    assert (rs.balance, rs.held) == (0, 0), (rs.balance, rs.held)
    assert message['held'] is False and 'settling' not in message, message
    assert rs.pending == [], rs.pending


def test_pause_gives_back_and_the_claim_holds_again(rs):
    """Paused, resumed, claimed, then captured by the holds job: the
    ledger reads release, hold, capture, which add up; the capture,
    the message's second settlement, is not taken for the release done
    under the message's id (before, one key a message: the capture
    would have found its entry written, and moved nothing)."""
    message = pause_release_hold_again(rs)
    expect(holds_job(rs, datetime.timedelta(0)), 'ok', 200)
    assert_held_again_and_captured(rs, message)
    expect(holds_job(rs, datetime.timedelta(minutes=4)), 'ok', 200)
    assert_held_again_and_captured(rs, message)


def test_capture_of_a_hold_taken_again_stopped_is_finished_once(rs):
    """The capture of the hold taken again moves the credit and its
    entry is refused: the recovery finds {message, hold} in pending,
    moves nothing again, and writes the entry once."""
    message = pause_release_hold_again(rs)
    rs.members[0].faults.append((('insert', 'ledger'), refuse))
    out = holds_job(rs, datetime.timedelta(0))
    assert out['status'] != 'ok', out
    assert (rs.balance, rs.held) == (0, 0), (rs.balance, rs.held)
    assert rs.pending == [{'message': message['_id'], 'hold': 1}], rs.pending
    expect(holds_job(rs, datetime.timedelta(minutes=2)), 'ok', 200)
    assert_held_again_and_captured(rs, message)


def test_pause_racing_a_resume_and_a_claim_keeps_the_hold_it_went_with(rs):
    """A pause parks the campaign's message; before it gives the hold
    back, a resume makes the entry due and a claim leases it, finds its
    message held and hands it out.  The release finds the entry no
    longer parked and puts the hold back: the message goes holding its
    credit, and nothing moves (before, the release went on and the
    message went holding nothing)."""
    message, entry = parked_campaign_message(rs)

    def resumed_and_claimed(rs):
        rs.campaigns[0].update(status='sending', paused_reason=None)
        entry.update(due_at=NOON, attempts=1,
                     lease_until=NOON + datetime.timedelta(seconds=30))

    rs.members[0].faults.append((('findAndModify', 'messages'),
                                 before(resumed_and_claimed)))
    expect(run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'pause'),
           'ok', 200)
    assert message['held'] is True and 'settling' not in message, message
    assert (rs.balance, rs.held) == (0, 1), (rs.balance, rs.held)
    assert rs.ledger == [] and rs.pending == [], (rs.ledger, rs.pending)
    assert entry['lease_until'] is not None, entry


def test_pause_repeated_parks_what_the_first_left(rs):
    """A pause whose move is written and whose park fails (a crash
    there leaves the same): the message waits unparked, holding.  The
    person pauses again: the repeat parks it and gives its credit back,
    once; a third moves nothing more."""
    message, entry = parked_campaign_message(rs)

    rs.members[0].faults.append((('find', 'outbox'), refuse))
    out = run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'pause')
    assert out['status'] != 'ok', out
    assert rs.campaigns[0]['status'] == 'paused', rs.campaigns[0]
    assert entry['due_at'] == NOON and message['held'] is True, entry

    for _ in range(2):
        expect(run(rs, 'campaign-act', str(ORG), str(CAMPAIGN), 'pause'),
               'ok', 200)
        assert entry['due_at'] == datetime.datetime.max, entry
        assert message['held'] is False and 'settling' not in message
        assert (rs.balance, rs.held) == (1, 0), (rs.balance, rs.held)
        assert [(e['_id'], e['kind']) for e in rs.ledger] == [
            (message['_id'], 'release')], rs.ledger


DAY = datetime.timedelta(days=1)


MEDIA_DIR = os.path.join(os.environ.get('TMPDIR', '/tmp'),
                         'inbox-wire-media-%d' % os.getpid())
atexit.register(shutil.rmtree, MEDIA_DIR, True)


def upload(rs, name, released_ago):
    """An upload made three days before noon, not attached, released
    (a draft's edit dropped it) released_ago before noon; its file in
    MEDIA_DIR, which the tests running side by side share: each names
    its uploads with letters no other test uses."""
    doc = {'_id': ObjectId(), 'org_id': ORG, 'file': name * 43 + '.png',
           'content_type': 'image/png', 'bytes': Int64(100),
           'created_at': NOON - 3 * DAY, 'attached': False,
           'released_at': NOON - released_ago}
    rs.media.append(doc)
    put_file(doc)
    return doc


def put_file(doc):
    os.makedirs(MEDIA_DIR, exist_ok=True)
    with open(os.path.join(MEDIA_DIR, doc['file']), 'wb') as f:
        f.write(b'\x89PNG')


def on_disk(doc):
    return os.path.exists(os.path.join(MEDIA_DIR, doc['file']))


def purge(rs, keep=DAY):
    return run(rs, 'media-purge', NOON_MS,
               str(keep // datetime.timedelta(milliseconds=1)), '500',
               MEDIA_DIR)


def test_purge_removes_the_dropped_uploads_nothing_names(rs):
    """Four uploads a draft's edit dropped: the one nothing names and
    that was dropped over a day ago is removed and its file handed back
    (its removal's answer lost: the retry gets it, once); one a message
    sends and one a campaign shows are attached again and kept; one
    dropped an hour ago waits out the day."""
    unused = upload(rs, 'A', 2 * DAY)
    sent = upload(rs, 'B', 2 * DAY)
    shown = upload(rs, 'C', 2 * DAY)
    young = upload(rs, 'D', datetime.timedelta(hours=1))
    rs.messages.append({'_id': ObjectId(), 'org_id': ORG,
                        'provider_id': SID, 'direction': 'outbound',
                        'media': [{'file': 'X' * 43 + '.png'},
                                  {'file': sent['file']}]})
    rs.campaign('draft')['media'] = [{'file': shown['file']}]
    rs.members[0].faults.append((('findAndModify', 'media'), lose_answer))

    out = purge(rs)
    expect(out, 'ok', 200)
    assert out['result']['removed'] == [unused['file']], out
    assert rs.media == [sent, shown, young], rs.media
    assert sent['attached'] and shown['attached'], rs.media
    assert not young['attached'], young
    assert_resent_once(rs, 'findAndModify', 'media')
    assert not on_disk(unused)
    assert on_disk(sent) and on_disk(shown) and on_disk(young)

    # nothing is due now: the same purge removes nothing
    out = purge(rs)
    expect(out, 'ok', 200)
    assert out['result']['removed'] == [], out
    assert rs.media == [sent, shown, young], rs.media


def test_lost_answer_of_a_drafts_delete_deletes_it_once(rs):
    """A draft's delete whose answer is lost: the retry gets the draft
    it removed (not "no such campaign"), and what a send that failed
    after its fix left of its recipients goes; its image's upload is
    released for the purge."""
    image = upload(rs, 'Q', 2 * DAY)
    image['attached'] = True
    del image['released_at']
    rs.campaign('draft')['media'] = [{'url': 'u',
                                      'content_type': 'image/png',
                                      'file': image['file'],
                                      'upload_id': image['_id']}]
    rs.recipient('due')
    rs.members[0].faults.append((('findAndModify', 'campaigns'),
                                 lose_answer))

    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'ok', 200)
    assert rs.campaigns == [] and rs.recipients == [], rs.campaigns
    assert_resent_once(rs, 'findAndModify', 'campaigns')
    assert not image['attached'] and image['released_at'], image


def test_delete_of_a_draft_a_send_is_fixing_is_refused(rs):
    """A draft whose send holds its lease (fixing its recipients): the
    delete misses, the draft read again says why, 409; nothing goes. So
    for one a person cancelled meanwhile, in words of a cancelled one."""
    draft = rs.campaign('draft')
    draft['fixing_by'] = ObjectId()
    draft['fixing_until'] = (datetime.datetime.utcnow()
                             + datetime.timedelta(minutes=2))
    left = rs.recipient('due')

    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'conflict', 409)
    assert out['message'] == ('This draft is being sent; it can be '
                              'cancelled once it is.'), out
    assert rs.campaigns == [draft] and rs.recipients == [left], rs.campaigns

    # cancelled by a person while that send holds the lease: refused, in
    # words of a cancelled one, not a draft's
    draft['status'] = 'cancelled'
    draft['started_at'] = None
    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'conflict', 409)
    assert out['message'] == ('This campaign was cancelled while its send '
                              'was fixing its recipients; it can be '
                              'deleted once that send stops, within two '
                              'minutes.'), out
    assert rs.campaigns == [draft] and rs.recipients == [left], rs.campaigns

    # a sent one: refused in the rule's words
    draft['status'] = 'sending'
    draft['started_at'] = NOON
    del draft['fixing_by'], draft['fixing_until']
    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'conflict', 409)
    assert out['message'].startswith(
        'Only a draft, or one cancelled before any of its messages was '
        'handed over, can be deleted'), out
    assert rs.campaigns == [draft], rs.campaigns


def test_delete_of_a_campaign_cancelled_before_it_began(rs):
    """A campaign scheduled, its recipients fixed, and cancelled before
    its time (started_at null): the delete removes it and its recipients,
    none of whom was handed a message; so does one that began and handed
    nothing over (handed_at null). One cancelled after a hand-over, or of
    before and begun, is refused in the rule's words and kept with its
    recipient."""
    never = rs.campaign('cancelled')
    never['started_at'] = None
    rs.recipient('cancelled')

    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'ok', 200)
    assert rs.campaigns == [] and rs.recipients == [], rs.campaigns

    # begun, its one recipient waiting out her quiet hours: nothing
    # handed over (handed_at null), so it goes as one never begun does
    waited = rs.campaign('cancelled')
    waited['handed_at'] = None
    rs.recipient('cancelled')
    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'ok', 200)
    assert rs.campaigns == [] and rs.recipients == [], rs.campaigns

    handed = rs.campaign('cancelled')
    handed['handed_at'] = NOON
    sent = rs.recipient('sent')
    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'conflict', 409)
    assert out['message'] == ('Messages of this campaign were handed over '
                              'for sending before it was cancelled; it '
                              'stays in its contacts\' records.'), out
    assert rs.campaigns == [handed] and rs.recipients == [sent], rs.campaigns

    # one of before that began (no handed_at at all): taken as handed over
    del handed['handed_at']
    out = run(rs, 'campaign-delete', str(ORG), str(CAMPAIGN), 'campaign')
    expect(out, 'conflict', 409)
    assert rs.campaigns == [handed] and rs.recipients == [sent], rs.campaigns


def test_purge_stopped_before_its_deletes_is_finished_by_the_next(rs):
    """The deletion of the records refused after the upload was marked
    and its file unlinked (as a worker killed between leaves it, its file
    there or not): the record stays, marked, so a send naming it is
    refused; the next round unlinks its file again and deletes it. No
    file is ever left that no record names."""
    unused = upload(rs, 'F', 2 * DAY)
    rs.members[0].faults.append((('delete', 'media'), refuse))

    out = purge(rs)
    assert out['status'] != 'ok', out
    assert out['result']['removed'] == [], out
    assert rs.media == [unused] and 'purging_at' in unused, rs.media

    # its file back, as a worker killed before its unlink leaves it
    put_file(unused)

    out = purge(rs)
    expect(out, 'ok', 200)
    assert out['result']['removed'] == [unused['file']], out
    assert rs.media == [], rs.media
    assert not on_disk(unused)


def test_purge_whose_look_fails_removes_nothing(rs):
    """The server refuses the look for a message naming an upload: the
    purge fails and removes nothing, so no file goes that a message might
    name; the next round removes it."""
    unused = upload(rs, 'E', 2 * DAY)
    rs.members[0].faults.append((('find', 'messages'), refuse))

    out = purge(rs)
    assert out['status'] != 'ok', out
    assert out['result']['removed'] == [], out
    assert rs.media == [unused], rs.media
    assert on_disk(unused)

    out = purge(rs)
    expect(out, 'ok', 200)
    assert out['result']['removed'] == [unused['file']], out
    assert rs.media == [], rs.media
    assert not on_disk(unused)


def test_status_report_stopped_after_its_move_is_announced_by_the_retry(
        rs):
    """A carrier's report moves a message and its hold's release is
    refused by the server: the report fails (the carrier retries it).
    The retry finds the message moved already and appends the
    message.status the first try never did, once, as SQLite's one
    transaction would have; a third report appends nothing more."""
    message = held_message(rs)
    message.update(conversation_id=rs.conversation, contact_id=rs.contact)
    rs.members[0].faults.append((('findAndModify', 'orgs'), refuse))
    out = run(rs, 'status', str(ORG), SID, 'undelivered')
    assert out['status'] != 'ok', out
    assert message['status'] == 'undelivered', message
    assert rs.events == [], rs.events

    out = run(rs, 'status', str(ORG), SID, 'undelivered')
    expect(out, 'ok', 200)
    assert out['result']['changed'] is False, out
    assert len(out['events']) == 1, out
    assert [(e['type'], e['message_id']) for e in rs.events] == [
        ('message.status', message['_id'])], rs.events

    out = run(rs, 'status', str(ORG), SID, 'undelivered')
    expect(out, 'ok', 200)
    assert out['events'] == [] and len(rs.events) == 1, (out, rs.events)


def failed_reply(rs):
    """USER's reply to the thread's contact that did not reach the phone
    (switched off): one that may be sent again."""
    message = {'_id': ObjectId(), 'org_id': ORG,
               'conversation_id': rs.conversation, 'contact_id': rs.contact,
               'direction': 'outbound', 'body': 'Still coming?',
               'media': [], 'status': 'undelivered', 'error_code': '30003',
               'sent_by': USER, 'provider': 'twilio', 'provider_id': SID,
               'segments': 1, 'credits': 1, 'held': False,
               'created_at': NOON}
    rs.messages.append(message)
    return message


def resend(rs, failed, key):
    return run(rs, 'resend', str(ORG), str(rs.conversation),
               failed['body'], key, str(USER), str(failed['_id']))


def test_resend_marks_the_failed_reply_once_a_second_is_refused(rs):
    """A Send again marks the failed reply with the message it went as,
    by one findAndModify on resent_as null, and appends its
    message.updated; a colleague's Send again of it (another key) is
    409 already_sent_again naming that message: nothing more sent, held
    or marked."""
    rs.contact_doc()
    failed = failed_reply(rs)
    out = resend(rs, failed, 'k-1')
    expect(out, 'ok', 200)
    again = out['result']['message_id']
    assert failed['resent_as'] == ObjectId(again), failed
    assert len(rs.writes_of('findAndModify', 'messages')) == 1
    assert [str(m['_id']) for m in rs.messages] == [
        str(failed['_id']), again], rs.messages
    assert (rs.balance, rs.held) == (9, 1), (rs.balance, rs.held)
    assert ('message.updated', failed['_id']) in [
        (e['type'], e.get('message_id')) for e in rs.events], rs.events

    out = resend(rs, failed, 'k-2')
    expect(out, 'already_sent_again', 409)
    assert out['result'] == {'field': 'resend_of', 'message_id': again}, out
    assert out['events'] == [], out
    assert len(rs.messages) == 2, rs.messages
    assert (rs.balance, rs.held) == (9, 1), (rs.balance, rs.held)
    assert failed['resent_as'] == ObjectId(again), failed
    assert len(rs.writes_of('findAndModify', 'messages')) == 1


def test_resend_of_a_reply_marked_meanwhile_is_refused_by_the_mark(rs):
    """A colleague's Send again marks the failed reply between this
    one's read of it and its mark: the findAndModify's resent_as null
    finds nothing, so this one is already_sent_again naming the
    colleague's message, before anything is held or written."""
    rs.contact_doc()
    failed = failed_reply(rs)
    other = ObjectId()

    def colleague_sends_it_again(rs):
        failed.update(resent_as=other, resent_at=NOON)

    rs.members[0].faults.append((('findAndModify', 'messages'),
                                 before(colleague_sends_it_again)))
    out = resend(rs, failed, 'k-1')
    expect(out, 'already_sent_again', 409)
    assert out['result']['message_id'] == str(other), out
    assert failed['resent_as'] == other, failed
    assert len(rs.messages) == 1 and rs.outbox == [], rs.messages
    assert (rs.balance, rs.held) == (10, 0), (rs.balance, rs.held)
    assert rs.ledger == [] and rs.events == [], (rs.ledger, rs.events)


def test_resend_whose_hold_fails_gives_its_mark_back(rs):
    """The mark goes before the hold; the hold refused, nothing went and
    the mark is taken off again, so the reply may still be sent again:
    the next Send again goes and marks it."""
    rs.contact_doc()
    failed = failed_reply(rs)
    rs.members[0].faults.append((('findAndModify', 'orgs'), refuse))
    out = resend(rs, failed, 'k-1')
    assert out['status'] != 'ok', out
    assert 'resent_as' not in failed, failed
    assert len(rs.messages) == 1, rs.messages

    out = resend(rs, failed, 'k-2')
    expect(out, 'ok', 200)
    assert failed['resent_as'] == ObjectId(out['result']['message_id'])


def test_status_frame_says_whether_the_reply_may_be_sent_again(rs):
    """The message.status that fails a reply says whether Send again may
    go (can_send_again), so that a page shows the button without a
    read: a person's reply yes, an automatic answer (no sent_by) no."""
    message = held_message(rs)
    message.update(conversation_id=rs.conversation, contact_id=rs.contact,
                   sent_by=USER)
    answer = dict(message, _id=ObjectId(), provider_id=SID2)
    del answer['sent_by']
    rs.messages.append(answer)
    rs.balance, rs.held = 8, 2

    seen = []
    for sid in (SID, SID2):
        out = run(rs, 'status', str(ORG), sid, 'undelivered')
        expect(out, 'ok', 200)
        seen += [(f['type'], f['id'], f['can_send_again'])
                 for f in map(json.loads, out['result']['frames'])]
    assert seen == [('message.status', str(message['_id']), True),
                    ('message.status', str(answer['_id']), False)], seen


TESTS = [
    (test_new_message_is_stored_with_its_events, 1),
    (test_resume_shows_the_message_with_its_picture, 1),
    (test_duplicate_key_is_a_message_stored_before, 1),
    (test_lost_answer_of_the_message_insert_applies_it_once, 1),
    (test_lost_answer_of_the_event_numbers_applies_them_once, 1),
    (test_lost_answer_of_the_conversation_update_counts_it_once, 1),
    (test_server_gone_is_unavailable_then_the_retry_stores_it, 1),
    (test_failure_after_the_message_insert_is_finished_by_the_retry, 1),
    (test_new_number_pushes_its_contact_once, 1),
    (test_new_numbers_text_failed_after_its_insert_is_pushed_by_the_retry,
     1),
    (test_new_numbers_text_failed_before_its_insert_is_pushed_by_the_retry,
     1),
    (test_batch_failing_on_its_second_message_keeps_the_first_stored, 1),
    (test_failure_after_the_thread_counts_the_message_once, 1),
    (test_failure_after_the_events_writes_them_once, 1),
    (test_failure_before_the_answer_is_queued_by_the_retry_once, 1),
    (test_failure_after_the_answer_is_queued_keeps_one, 1),
    (test_silent_server_is_unavailable_before_the_carrier_gives_up, 1),
    (test_not_primary_retries_on_the_new_primary_once, 2),
    (test_not_primary_without_a_new_one_is_unavailable, 2),
    (test_lost_answer_of_mark_read_still_pushes_its_events, 1),
    (test_token_lookup_is_retried_after_a_lost_connection, 1),
    (test_token_lookup_of_a_gone_server_is_unavailable, 1),
    (test_ping_writes_the_health_record, 1),
    (test_pause_as_the_sender_pauses_for_credits_is_a_pause, 1),
    (test_cancel_as_the_sender_pauses_for_credits_cancels, 1),
    (test_cancel_as_the_sender_finishes_is_refused_as_done, 1),
    (test_dispatch_hands_a_recipient_over, 1),
    (test_dispatch_counts_the_campaigns_it_started, 1),
    (test_import_of_new_numbers_makes_contacts_with_threads, 1),
    (test_import_failed_before_its_threads_is_finished_by_the_retry, 1),
    (test_import_failed_before_its_events_is_pushed_by_the_retry, 1),
    (test_text_pushes_a_contact_a_failed_import_made, 1),
    (test_import_pushes_a_contact_a_failed_text_made, 1),
    (test_ledger_names_whom_each_entry_was_for, 1),
    (test_import_pushes_every_field_of_the_contact_it_finds, 1),
    (test_hand_add_pushes_a_contact_a_failed_text_made, 1),
    (test_claim_puts_back_at_once_what_its_number_cannot_start, 1),
    (test_claim_after_a_cancel_hands_nothing_over, 1),
    (test_claim_after_a_pause_leaves_the_recipient_due, 1),
    (test_claim_after_a_cancel_keeps_the_counts, 1),
    (test_cancel_counts_those_left_cancelled, 1),
    (test_dispatch_reaches_every_sending_campaign, 1),
    (test_reply_whose_hold_fails_is_accepted_when_retried, 1),
    (test_rename_whose_copy_failed_is_repaired_by_the_retry, 1),
    (test_rename_copy_older_than_the_contact_is_not_written, 1),
    (test_opt_out_whose_copy_failed_is_repaired_by_the_retry, 1),
    (test_capture_stopped_before_the_credits_moved_is_finished_once, 1),
    (test_capture_stopped_after_the_credits_moved_moves_them_once, 1),
    (test_capture_stopped_after_its_entry_writes_it_once, 1),
    (test_pause_gives_back_and_the_claim_holds_again, 1),
    (test_capture_of_a_hold_taken_again_stopped_is_finished_once, 1),
    (test_pause_racing_a_resume_and_a_claim_keeps_the_hold_it_went_with, 1),
    (test_pause_repeated_parks_what_the_first_left, 1),
    (test_import_rename_overtaking_a_rename_keeps_its_name, 1),
    (test_status_report_stopped_after_its_move_is_announced_by_the_retry,
     1),
    (test_purge_removes_the_dropped_uploads_nothing_names, 1),
    (test_lost_answer_of_a_drafts_delete_deletes_it_once, 1),
    (test_delete_of_a_draft_a_send_is_fixing_is_refused, 1),
    (test_delete_of_a_campaign_cancelled_before_it_began, 1),
    (test_purge_whose_look_fails_removes_nothing, 1),
    (test_purge_stopped_before_its_deletes_is_finished_by_the_next, 1),
    (test_resend_marks_the_failed_reply_once_a_second_is_refused, 1),
    (test_resend_of_a_reply_marked_meanwhile_is_refused_by_the_mark, 1),
    (test_resend_whose_hold_fails_gives_its_mark_back, 1),
    (test_status_frame_says_whether_the_reply_may_be_sent_again, 1),
]


def run_test(test, members):
    rs = ReplicaSet(members)
    try:
        test(rs)
        unused = [f for m in rs.members for f in m.faults]
        assert not unused, 'faults never met: %r' % unused
        return None
    except Exception:
        return traceback.format_exc()
    finally:
        rs.stop()


def main():
    if not os.access(DRIVER, os.X_OK):
        print('%s is missing: make test-build' % DRIVER)
        print('# 0 passed, 1 failed')
        return 1

    # Most of the time is spent waiting for timeouts: run them side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = list(pool.map(lambda t: run_test(*t), TESTS))

    passed = failed = 0

    # a test written but left off TESTS would never run: it fails instead
    listed = {test.__name__ for test, _ in TESTS}
    for name in sorted(n for n, f in globals().items()
                       if n.startswith('test_') and callable(f)
                       and n not in listed):
        failed += 1
        print('not ok - %s\n    not in TESTS: it never ran' % name)

    for (test, _), failure in zip(TESTS, failures):
        if failure is None:
            passed += 1
            print('ok - %s' % test.__name__)
        else:
            failed += 1
            print('not ok - %s' % test.__name__)
            sys.stdout.write('    ' + failure.replace('\n', '\n    ') + '\n')

    print('# %d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
