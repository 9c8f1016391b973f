//! One `MULTI`/`EXEC` transaction streamed to a single server in bounded pieces.
//!
//! A file's transaction is tens of MB of commands (one member per TCP sequence and
//! acknowledgement number). Built as a [`redis::Pipeline`], every command is first a `Cmd`
//! of its own, then all are packed into one buffer: two full copies grown by doubling, all
//! on freshly faulted pages. Here each command is written once, in RESP, into a buffer that
//! is sent whenever it passes [`FLUSH_AT`] bytes and then reused; the replies (`OK`, one
//! `QUEUED` per command, then `EXEC`'s) are read after the last piece is sent, so the server
//! parses and queues while the client is still writing. The server applies nothing before
//! `EXEC`, so a transaction cut off midway (lost connection, crash) leaves nothing behind,
//! as with a pipeline.

use redis::{Connection, RedisResult, Value};

/// Bytes of commands buffered before they are sent.
const FLUSH_AT: usize = 256 * 1024;

/// No further arguments, for [`Tx::cmd`].
pub(super) const NONE: [&[u8]; 0] = [];

/// A transaction being written: commands are queued with [`Tx::cmd`] and [`Tx::zadd`],
/// then [`Tx::exec`] sends `EXEC` and reads every reply.
pub(super) struct Tx<'c> {
    con: &'c mut Connection,
    buf: Vec<u8>,
    /// Commands written after `MULTI` (each answers `QUEUED`).
    queued: usize,
    num: itoa::Buffer,
}

impl<'c> Tx<'c> {
    /// Starts a transaction on `con` (buffered: nothing is sent yet).
    pub(super) fn begin(con: &'c mut Connection) -> Self {
        let mut tx = Tx {
            con,
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            queued: 0,
            num: itoa::Buffer::new(),
        };
        tx.header(1);
        tx.bulk(b"MULTI");
        tx
    }

    fn header(&mut self, args: usize) {
        self.buf.push(b'*');
        self.buf.extend_from_slice(self.num.format(args).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn bulk(&mut self, arg: &[u8]) {
        self.buf.push(b'$');
        self.buf
            .extend_from_slice(self.num.format(arg.len()).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(arg);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn bulk_int(&mut self, n: impl itoa::Integer) {
        // A buffer of its own: `bulk` uses `num` for the length.
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    fn flush_if_full(&mut self) -> RedisResult<()> {
        if self.buf.len() >= FLUSH_AT {
            self.con.send_packed_command(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Queues one command: `head` then `tail`, each argument as given.
    pub(super) fn cmd<T: AsRef<[u8]>>(&mut self, head: &[&[u8]], tail: &[T]) -> RedisResult<()> {
        self.header(head.len() + tail.len());
        for a in head {
            self.bulk(a);
        }
        for a in tail {
            self.bulk(a.as_ref());
        }
        self.queued += 1;
        self.flush_if_full()
    }

    /// Queues `ZINCRBY key by member`.
    pub(super) fn zincrby(&mut self, key: &str, by: i64, member: &str) -> RedisResult<()> {
        self.header(4);
        self.bulk(b"ZINCRBY");
        self.bulk(key.as_bytes());
        self.bulk_int(by);
        self.bulk(member.as_bytes());
        self.queued += 1;
        self.flush_if_full()
    }

    /// Queues `ZADD key count member [count member ...]` (counts as given, all positive).
    pub(super) fn zadd(&mut self, key: &str, members: &[(String, u64)]) -> RedisResult<()> {
        self.header(2 + 2 * members.len());
        self.bulk(b"ZADD");
        self.bulk(key.as_bytes());
        for (m, n) in members {
            self.bulk_int(*n);
            self.bulk(m.as_bytes());
            // A piece may end inside a command: the server reads a stream.
            self.flush_if_full()?;
        }
        self.queued += 1;
        self.flush_if_full()
    }

    /// Sends `EXEC` and reads every reply. `None` when a watched key changed (the server
    /// applied nothing); an error reply to any command is returned as the error (one refused
    /// while queueing makes the server discard the whole transaction).
    pub(super) fn exec(mut self) -> RedisResult<Option<Vec<Value>>> {
        self.header(1);
        self.bulk(b"EXEC");
        self.con.send_packed_command(&self.buf)?;
        self.buf = Vec::new();
        // `MULTI`'s OK, then a QUEUED (or an error) per command: read them all before
        // reporting, so the connection is left in step with the server.
        let mut refused = self.con.recv_response()?.extract_error().err();
        for _ in 0..self.queued {
            let e = self.con.recv_response()?.extract_error().err();
            refused = refused.or(e);
        }
        let exec = self.con.recv_response()?;
        if let Some(e) = refused {
            return Err(e);
        }
        match exec.extract_error()? {
            Value::Nil => Ok(None),
            Value::Array(replies) => Ok(Some(replies)),
            other => Ok(Some(vec![other])),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use redis::Commands as _;

    use super::{NONE, Tx};

    /// Database 11 of the test server (`TRIDENT_TEST_REDIS`, default 127.0.0.1:6379), with
    /// `keys` deleted (each test has keys of its own: tests run in parallel).
    fn connect(keys: &[&str]) -> redis::Connection {
        let base = std::env::var("TRIDENT_TEST_REDIS")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let mut con = redis::Client::open(format!("{base}/11"))
            .unwrap()
            .get_connection()
            .expect("a Redis server for the tests (.ci/run starts one)");
        if !keys.is_empty() {
            let _: u64 = con.del(keys).unwrap();
        }
        con
    }

    #[test]
    fn a_transaction_larger_than_a_piece_applies_whole() {
        let keys = ["tx1:z", "tx1:s"];
        let mut con = connect(&keys);
        // 40,000 members: several pieces, some ending inside the ZADD.
        let members: Vec<(String, u64)> = (0..40_000u64)
            .map(|i| (format!("member-{i:08}"), i % 7 + 1))
            .collect();
        let mut tx = Tx::begin(&mut con);
        tx.cmd(&[b"DEL", b"tx1:z"], &NONE).unwrap();
        tx.zadd("tx1:z", &members).unwrap();
        tx.zincrby("tx1:z", 5, "member-00000003").unwrap();
        tx.cmd(&[b"SADD", b"tx1:s"], &["a", "b", "c"]).unwrap();
        let replies = tx.exec().unwrap().expect("not aborted");
        assert_eq!(replies.len(), 4);
        let card: u64 = con.zcard("tx1:z").unwrap();
        assert_eq!(card, 40_000);
        let score: f64 = con.zscore("tx1:z", "member-00000003").unwrap();
        assert_eq!(score, 9.0, "4 from the ZADD, 5 from the ZINCRBY");
        let score: f64 = con.zscore("tx1:z", "member-00039999").unwrap();
        assert_eq!(score, 2.0, "39,999 % 7 + 1");
        let n: u64 = con.scard("tx1:s").unwrap();
        assert_eq!(n, 3);
        // The connection is in step: a plain command after the transaction works.
        let pong: String = redis::cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
        let _: u64 = con.del(&keys).unwrap();
    }

    #[test]
    fn a_refused_command_applies_nothing_and_is_the_error() {
        let mut con = connect(&["tx2:applied", "tx2:z"]);
        let mut tx = Tx::begin(&mut con);
        tx.cmd(&[b"SADD", b"tx2:applied", b"x"], &NONE).unwrap();
        // Wrong number of arguments: refused while queueing, so EXEC aborts.
        tx.cmd(&[b"ZADD", b"tx2:z", b"1"], &NONE).unwrap();
        let err = tx.exec().expect_err("refused");
        assert!(err.to_string().contains("wrong number"), "{err}");
        let exists: bool = con.exists("tx2:applied").unwrap();
        assert!(!exists, "nothing of an aborted transaction is applied");
        let pong: String = redis::cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
    }

    #[test]
    fn a_watched_key_changed_is_none() {
        let mut con = connect(&["tx3:FILES"]);
        let mut other = connect(&[]);
        let () = redis::cmd("WATCH")
            .arg("tx3:FILES")
            .query(&mut con)
            .unwrap();
        let _: u64 = other.sadd("tx3:FILES", "someone-else.pcap").unwrap();
        let mut tx = Tx::begin(&mut con);
        tx.cmd(&[b"SADD", b"tx3:FILES", b"mine.pcap"], &NONE)
            .unwrap();
        assert!(tx.exec().unwrap().is_none());
        let mine: bool = con.sismember("tx3:FILES", "mine.pcap").unwrap();
        assert!(!mine);
        let _: u64 = con.del("tx3:FILES").unwrap();
    }
}
