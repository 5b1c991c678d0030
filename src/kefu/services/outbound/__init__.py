"""The outbox: everything kefu sends leaves through here, once as the receiver sees it.

- ``enqueue``: a row written in the same transaction as the message it sends;
- ``wake``: the relays hear of it right after that commit (in process, PostgreSQL
  LISTEN/NOTIFY, Redis pub/sub);
- ``relay``: takes due rows (a lease, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), hands each to
  its channel's adapter (channels/) outside any transaction, and marks what came of it;
- ``service``: the relay's thread inside ``kefu serve`` and ``kefu worker``;
- ``receipts``: the channel says a message was delivered or read;
- ``replay`` and ``entries``: an admin's view of the outbox and replay of the dead letters;
- ``states``: the one writer of a row's state, mirrored on its message.

Every rule about states (what may follow what, back-off, receipts forward only) is in
domain/delivery.py.
"""
