/*
 * limits.h - every limit, cap and default of ftx in one place.
 *
 * Each value here is enforced by exactly one check in the code and has a
 * hostile-input test (see tests/unit and tests/integration).  Change a
 * value here, not at its point of use.
 */
#ifndef FTX_LIMITS_H
#define FTX_LIMITS_H

#define FTX_VERSION "0.4.0"
#define FTX_PROTO_VERSION "FTX/1"

/* Default ports: control (and later UDP echo) and data. */
#define FTX_DEFAULT_PORT 5001
#define FTX_DEFAULT_DATA_PORT 5002
#define FTX_DEFAULT_HOST "127.0.0.1"
#define FTX_DEFAULT_BIND "0.0.0.0"
#define FTX_DEFAULT_ROOT "./server_files"
#define FTX_DEFAULT_DOWNLOAD_DIR "./client_downloads"

/* A control line, including its terminating LF, is at most this long. */
#define FTX_LINE_MAX 4096
/* Arguments after the verb on one control line. */
#define FTX_MAX_ARGS 8
/* The Nth overlong line gets ERROR FLOOD and a disconnect (N-1 get
 * ERROR TOOLONG and are discarded). */
#define FTX_MAX_BAD_LINES 4
/* Bytes of one overlong line we discard before we call it a flood. */
#define FTX_FLOOD_BYTES (64 * 1024)

/* A file name is 1..255 bytes (after percent-decoding). */
#define FTX_NAME_MAX 255
/*
 * SECURITY: a path in the store's namespace (shared/path.h: names
 * joined by '/') is 1..FTX_RPATH_MAX bytes of at most
 * FTX_RPATH_DEPTH_MAX components, so resolving one costs a bounded
 * number of steps and fits fixed buffers.  ("RPATH": FTX_PATH_MAX below
 * is the size of a local file-system path in the configuration.)
 * 960 leaves 64 bytes of S3's 1024-byte object key for a backend's
 * prefix (a per-user area such as ".users/<32-byte name>/").
 */
#define FTX_RPATH_MAX 960
#define FTX_RPATH_DEPTH_MAX 32
/* A plain name is a one-component path. */
_Static_assert(FTX_RPATH_MAX >= FTX_NAME_MAX, "a name must be a path");
/* Every component can be used: the deepest path of one-byte names. */
_Static_assert(FTX_RPATH_DEPTH_MAX * 2 - 1 <= FTX_RPATH_MAX,
    "the depth limit must be reachable within the length limit");
/* A path percent-encoded in full (3 bytes a byte) fits a control line
 * with room for its verb and numeric arguments. */
_Static_assert(3 * FTX_RPATH_MAX + 128 <= FTX_LINE_MAX,
    "an encoded path must fit a control line");
/* Largest file a client may upload (1 TiB). */
#define FTX_MAX_FILE_SIZE (1ULL << 40)
/* A streamed upload (UPLOAD <path> *) comes in chunks of
 * 1..FTX_STREAM_CHUNK_MAX bytes, each behind its 4-byte length; ftxd
 * refuses a longer length (ERROR SYNTAX) before reading any of it. */
#define FTX_STREAM_CHUNK_MAX (1024 * 1024)
/* LIST returns at most this many entries (the worst case, 255-byte
 * names fully percent-encoded, fits FTX_LIST_TEXT_MAX). */
#define FTX_MAX_LIST_ENTRIES 10000
/* ftx: the matches of one remote glob are collected before they are
 * used (the commands they feed need the control connection that the
 * listing occupies), at most this many. */
#define FTX_GLOB_MATCHES_MAX 10000
/* ftx rm -r: files deleted per round of listing (a larger tree takes
 * several rounds), and directories remembered, to be removed deepest
 * first once their files are gone. */
#define FTX_RMTREE_BATCH 1000
#define FTX_RMTREE_DIRS_MAX 100000
/* SECURITY: a LIST reply's FILE lines are built once, as a snapshot
 * (the "OK <n>" count comes first), of at most this many bytes, and
 * sent in pieces of FTX_LIST_PIECE bytes, the next only once the
 * session's queued output is below FTX_LIST_LOWAT: an unread listing
 * costs its session at most LOWAT + PIECE of queue. */
#define FTX_LIST_TEXT_MAX (15 * 1024 * 1024)
#define FTX_LIST_PIECE (64 * 1024)
#define FTX_LIST_LOWAT (64 * 1024)
/* LIST snapshots being built at once (each reads the whole directory);
 * further LISTs wait on the loop. */
#define FTX_LIST_JOBS 4
/* A snapshot is shared by the LISTs of the same directory for this long
 * if the directory has not changed; only a directory that had not
 * changed for FTX_LIST_SETTLE_MS when it was read is shared (its time
 * stamps then tell any later change apart, however coarse the file
 * system's clock).  Stores with a shared snapshot at once: */
#define FTX_LIST_SHARE_MS 2000
#define FTX_LIST_SETTLE_MS 1000
#define FTX_LIST_CACHE 8

/* Data tokens: 128 random bits, sent as 32 lowercase hex digits + LF. */
#define FTX_TOKEN_BYTES 16
#define FTX_TOKEN_HEX (FTX_TOKEN_BYTES * 2)
/* A token is valid this long after the OK reply that carried it. */
#define FTX_TOKEN_TTL_S 30
/* A data connection must present its token within this time. */
#define FTX_DATA_HELLO_TIMEOUT_S 10

/* I/O granularity: the default chunk, and chunks per system call. */
#define FTX_DEFAULT_CHUNK 4096
#define FTX_MIN_CHUNK 512
#define FTX_MAX_CHUNK (1024 * 1024)
#define FTX_CHUNKS_PER_IO 64
/* Buffers in flight between an I/O thread and its hashing thread. */
#define FTX_PIPE_BUFS 8
/* Kernel socket buffers asked for on data connections. */
#define FTX_SOCKBUF_BYTES (4 * 1024 * 1024)
/* Transfers smaller than this are hashed inline, without a thread. */
#define FTX_PIPE_THREAD_MIN (1024 * 1024)

/* SECURITY: hash computations that must read a whole file (HASH or
 * DOWNLOAD of a file whose SHA-256, or MD5, is not cached) running at
 * once per user and per address; more get ERROR BUSY at once.  A cached
 * hash costs no such slot. */
#define FTX_HASH_JOBS_MAX 2

/* Server defaults. */
#define FTX_DEFAULT_WORKERS 128
#define FTX_MAX_WORKERS 1024
#define FTX_DEFAULT_MAX_CLIENTS 1024
#define FTX_DEFAULT_MAX_PER_IP 64
#define FTX_DEFAULT_IDLE_TIMEOUT_S 300
#define FTX_DEFAULT_DATA_TIMEOUT_S 60
#define FTX_MAX_TIMEOUT_S 86400
/* SECURITY: a started control line must be finished within this time
 * (slowloris); the idle timeout counts complete lines only. */
#define FTX_LINE_TIMEOUT_S 30
/* Resume: an interrupted upload is kept this long after its last byte
 * (--partial-ttl), and swept at most this often. */
#define FTX_DEFAULT_PARTIAL_TTL_S 86400
#define FTX_MAX_PARTIAL_TTL_S (30 * 86400)
#define FTX_PARTIAL_SWEEP_S 60
/* Graceful stop: running transfers get this long to finish. */
#define FTX_SHUTDOWN_GRACE_S 10
/* SECURITY: kernel socket buffers of control connections (the kernel
 * doubles the value).  Without a cap the send buffer autotunes to
 * tcp_wmem's maximum (4 MiB), which a chat member that never reads would
 * fill before the FTX_CHAT_QUEUE_MAX check ever sees a byte queued. */
#define FTX_CTL_SOCKBUF_BYTES (64 * 1024)
/* Control output queued for one session before we stop reading it. */
#define FTX_OUTBUF_SOFT (256 * 1024)
/* SECURITY: the hard cap on one session's queued output.  Nothing a
 * reading client asks for goes past it (commands run only below
 * FTX_OUTBUF_SOFT, LIST comes in pieces, chat stops at
 * FTX_CHAT_QUEUE_MAX), so a session that would exceed it is one that
 * does not read, and it is closed. */
#define FTX_OUTBUF_MAX (FTX_OUTBUF_SOFT + 128 * 1024)
/* SECURITY: all sessions' queued output plus LIST snapshots, at most.
 * Above it the sessions holding the most that have not read for
 * FTX_OUT_SHED_GRACE_MS are closed first, and new LIST snapshots wait. */
#define FTX_OUTPUT_BUDGET (64 * 1024 * 1024)
#define FTX_OUT_SHED_GRACE_MS 2000
/* SECURITY: a session whose queued output has not moved for this long
 * (--send-timeout) is closed: its peer has stopped reading. */
#define FTX_DEFAULT_SEND_TIMEOUT_S 60
/* A drained output queue keeps at most this much memory allocated. */
#define FTX_OUTBUF_KEEP (16 * 1024)
/* Worker stack size: transfers need little stack. */
#define FTX_WORKER_STACK (256 * 1024)
/* Control-lane threads kept running when idle (fewer if --workers is
 * smaller): the first commands after a quiet spell do not wait for
 * threads to start; more start on demand, up to --workers. */
#define FTX_MIN_WORKERS 4
/* A thread above its lane's minimum exits after this long idle: a
 * burst's threads give their stacks back, but a steady load does not
 * start and stop a thread per job. */
#define FTX_WORKER_IDLE_EXIT_S 30
/* The loop's timer tick: idle, line, send and data-hello timeouts,
 * token expiry, delayed LOGIN failures and the shutdown deadline are
 * checked this often, so each fires at most this late.  Shorter costs
 * an idle server wake-ups for nothing. */
#define FTX_TICK_MS 250
/* listen(2) backlog of the control and data listeners: connections the
 * kernel completes before we accept them (it caps the value at
 * net.core.somaxconn).  Enough for a burst of a few hundred clients
 * connecting between two rounds of the loop. */
#define FTX_LISTEN_BACKLOG 512
/* SECURITY: data connections accepted but still waiting for their
 * token, at most (each holds a descriptor for up to
 * FTX_DATA_HELLO_TIMEOUT_S); at the cap the oldest is evicted, since a
 * real client sends its token within milliseconds.  One address holds
 * at most --max-per-ip of them, so it cannot fill the table alone. */
#define FTX_MAX_DCONNS 1024
/* The reply of one control job (HASH, DELETE, DOWNLOAD or UPLOAD
 * set-up, PARTIAL) is one line, which a client refuses beyond
 * FTX_LINE_MAX; this cap is a backstop, sized so that a reply to a
 * command (which runs only below FTX_OUTBUF_SOFT) can never push the
 * queue past FTX_OUTBUF_MAX. */
#define FTX_JOB_REPLY_MAX (FTX_OUTBUF_MAX - FTX_OUTBUF_SOFT)

/*
 * SECURITY: transfers run on their own thread pool (worker.c's transfer
 * lane), so they can never starve control work (LOGIN, LIST, HASH,
 * DELETE, download set-up); these caps bound that pool.  A transfer
 * counts from the OK that offers its token until it ends.
 */
#define FTX_DEFAULT_MAX_TRANSFERS 64
#define FTX_DEFAULT_MAX_TRANSFERS_PER_IP 16
#define FTX_DEFAULT_MAX_TRANSFERS_PER_USER 16
#define FTX_MAX_TRANSFERS_LIMIT 4096
/*
 * SECURITY: a running transfer must move at least --min-rate bytes per
 * second averaged over --min-rate-window seconds (a slow-drip sender or
 * a reader that never drains holds a thread otherwise).  The window is
 * kept in one-second slots, at most FTX_MIN_RATE_WINDOW_MAX of them.
 */
#define FTX_DEFAULT_MIN_RATE 1024
#define FTX_DEFAULT_MIN_RATE_WINDOW_S 30
#define FTX_MIN_RATE_WINDOW_MAX 600
/* A transfer's blocking socket calls wake at least this often, so the
 * rate and stall checks run even when no byte moves. */
#define FTX_XFER_SLICE_S 1
/* SECURITY: interrupted uploads kept per uploader (--max-partials); the
 * oldest beyond it is deleted when another is kept. */
#define FTX_DEFAULT_MAX_PARTIALS 16
#define FTX_MAX_PARTIALS_LIMIT 10000
/* Partials of one uploader a trim sorts by age in one scan; any beyond
 * (only ever there while uploads race the trim) wait for the next. */
#define FTX_PARTIALS_SCAN_MAX (4 * FTX_MAX_PARTIALS_LIMIT)

/* Chat: nicknames are 1..FTX_NICK_MAX bytes of [A-Za-z0-9_-]; messages
 * are 1..FTX_CHAT_TEXT_MAX bytes of UTF-8. */
#define FTX_NICK_MAX 32
#define FTX_CHAT_TEXT_MAX 1024
/* A chat member with more than this much unsent output when a push
 * arrives is disconnected as a slow reader. */
#define FTX_CHAT_QUEUE_MAX (256 * 1024)
/* Flood control: messages per window per session (--chat-rate), and
 * refusals in a row that get the session disconnected. */
#define FTX_CHAT_RATE_DEFAULT 20
#define FTX_CHAT_RATE_MAX 1000
#define FTX_CHAT_RATE_WINDOW_S 10
#define FTX_CHAT_STRIKES 10
/* The chat client sends NOOP this often so listening is not idling. */
#define FTX_CHAT_KEEPALIVE_S 60

/*
 * Chat across nodes (--chat-redis, ftxd/chatbus.c).  A member's nick is
 * claimed in Redis for FTX_CHATBUS_TTL_S and refreshed every
 * FTX_CHATBUS_BEAT_S, so the nicks of a node that dies free themselves
 * within the TTL.  A lost bus is retried after FTX_CHATBUS_BACKOFF_MIN_MS,
 * doubling up to FTX_CHATBUS_BACKOFF_MAX_MS; a connect, or a command
 * whose reply has not come, that takes longer than
 * FTX_CHATBUS_TIMEOUT_MS counts as the bus lost.
 */
#define FTX_CHATBUS_TTL_S 30
#define FTX_CHATBUS_BEAT_S 10
#define FTX_CHATBUS_BACKOFF_MIN_MS 500
#define FTX_CHATBUS_BACKOFF_MAX_MS 10000
#define FTX_CHATBUS_TIMEOUT_MS 5000
/* SECURITY: a node id (--node-id) is 1..FTX_NODE_ID_MAX bytes of
 * [A-Za-z0-9_-]: it is part of Redis key and channel names. */
#define FTX_NODE_ID_MAX 32
/* --chat-redis redis://HOST[:PORT][/DB]: the URL's length and the
 * highest database number. */
#define FTX_CHATBUS_URL_MAX 300
#define FTX_CHATBUS_DB_MAX 65535
/* SECURITY: names taken from one /who answer from the bus; the rest are
 * not shown (the answer says how many there were). */
#define FTX_CHATBUS_WHO_MAX 5000

/* Echo: "ECHO <payload>" must fit one control line, and "OK <payload>"
 * one reply line. */
#define FTX_ECHO_MAX (FTX_LINE_MAX - 6)
/* UDP echo: "FTXE <16 hex id> <payload>", at most FTX_UDP_MAX bytes;
 * the reply is "FTXR ..." of the same length. */
#define FTX_UDP_MAX 1400
#define FTX_UDP_ID_HEX 16
/* Datagrams from source ports below this (the well-known services,
 * which may answer anything) are never answered. */
#define FTX_UDP_MIN_SRC_PORT 1024
/* Replies per second per source address (--udp-rate), and overall. */
#define FTX_UDP_RATE_DEFAULT 1000
#define FTX_UDP_RATE_MAX 100000
#define FTX_UDP_GLOBAL_RATE 200000
/* Source addresses the rate limiter tracks at once. */
#define FTX_UDP_SOURCES 4096

/* ftx rtt: round trips, warm-up trips excluded from the statistics. */
#define FTX_RTT_DEFAULT_N 500
#define FTX_RTT_MAX_N 10000000
#define FTX_RTT_WARMUP 5
#define FTX_RTT_DEFAULT_SIZE 32
#define FTX_RTT_DEFAULT_TIMEOUT_MS 1000

/* Client retries (--retries, FTX_RETRIES): the first retry waits
 * FTX_RETRY_BASE_MS (FTX_RETRY_BASE_MS in the environment overrides it,
 * for tests), each later one twice as long, at most FTX_RETRY_CAP_MS. */
#define FTX_RETRIES_DEFAULT 3
#define FTX_RETRIES_MAX 100
#define FTX_RETRY_BASE_MS 500
#define FTX_RETRY_CAP_MS 10000

/* The client's MGET keeps at most FTX_BATCH_REQ_BYTES of request lines
 * unanswered (and at most FTX_BATCH_FILES_MAX requests), so they never
 * fill the server's socket buffer while it writes file bytes. */
#define FTX_BATCH_REQ_BYTES (64 * 1024)
/* SECURITY: a tree (the local walk, a server's LS) holds at most this
 * many entries in the client's memory; a larger one is refused. */
#define FTX_TREE_ENTRIES_MAX 1000000
/* The client's hash cache keeps at most this many files (the ones used
 * last first) and reads at most FTX_HCACHE_BYTES_MAX of its file. */
#define FTX_HCACHE_MAX 200000
#define FTX_HCACHE_BYTES_MAX (FTX_HCACHE_MAX * 128)

/* Client: connect timeout and how long to wait for a reply. */
#define FTX_CONNECT_TIMEOUT_S 10
#define FTX_REPLY_TIMEOUT_S 120

/* Error text buffers passed down by callers. */
#define FTX_ERRLEN 256

/* ---- Deployment: config file, daemon, logs, STATS (issue 5) ---- */

/* The configuration file read when --config is not given (if it exists).
 * The environment variable FTXD_CONFIG replaces this path; set to the
 * empty string it turns the default file off (tests use that). */
#define FTX_DEFAULT_CONFIG "/etc/ftxd.conf"
/* A configuration file line, including its LF. */
#define FTX_CONFIG_LINE_MAX 8192
/* Paths in the configuration (root, log, xferlog, pidfile), bytes. */
#define FTX_PATH_MAX 4096
/* Host names and addresses (--bind, --public-host, host= in replies). */
#define FTX_HOST_MAX 255
/* --max-clients and --max-per-ip are at most this. */
#define FTX_MAX_CONN_LIMIT 1000000
/* A --data-port range N-M spans at most this many ports. */
#define FTX_DATA_PORTS_MAX 1024
/*
 * SECURITY: the PROXY protocol v2 header a trusted balancer puts before
 * a connection's first byte (docs/PROTOCOL.md, "PROXY protocol").  The
 * format allows 16 + 65535 bytes; we take at most the 16-byte fixed part
 * plus the largest address block (216 bytes, AF_UNIX) plus 304 bytes of
 * TLVs: what HAProxy sends (unique-id up to 128 bytes, ALPN, authority)
 * and what an AWS NLB sends (its VPC endpoint id) fit with room to
 * spare.  A longer header is refused, never partly skipped.
 */
#define FTX_PROXY_HDR_MAX (16 + 216 + 304)
/* Entries (addresses or CIDR networks) in --proxy-from. */
#define FTX_PROXY_FROM_MAX 16
/* SECURITY: connections from trusted balancers still waiting for their
 * PROXY header, at most (a balancer sends it with its first segment);
 * more are refused until some complete or time out. */
#define FTX_PROXY_WAIT_MAX 1024
/* A trusted connection whose header has not arrived within this long is
 * closed, like a data connection without its token. */
#define FTX_PROXY_TIMEOUT_S 10
/* --daemon: files created by the daemon are not world-readable (the
 * systemd unit uses the same UMask=). */
#define FTX_DAEMON_UMASK 027
/* key=value fields of a STATS reply a client accepts. */
#define FTX_STATS_MAX_FIELDS 32
/* Symbolic links followed while resolving a log file's directory one
 * component at a time (ftxd/log.c); the kernel's own limit is 40. */
#define FTX_LOG_LINKS_MAX 40

/* ---- Security: TLS, accounts, abuse limits (issue 4) ---- */

/* User names: 1..FTX_USER_MAX bytes of [a-z0-9_-], starting with a
 * letter or digit (they are directory names under the root). */
#define FTX_USER_MAX 32
/* Passwords: 1..FTX_PASS_MAX bytes (percent-encoded on the wire). */
#define FTX_PASS_MAX 1024
/* The reserved account of --anonymous; its files are <root>/anonymous. */
#define FTX_ANON_USER "anonymous"
/* Lines of a users file, and the file's size, at most. */
#define FTX_USERS_LINE_MAX 512
#define FTX_USERS_MAX 10000
/* scrypt parameters for new password hashes: N=2^15, r=8, p=1 is
 * 32 MiB and about 50-100 ms per check on a small cloud VM. */
#define FTX_SCRYPT_LOG2_N 15
#define FTX_SCRYPT_R 8
#define FTX_SCRYPT_P 1
#define FTX_SCRYPT_MAXMEM (64ULL * 1024 * 1024)
#define FTX_SALT_BYTES 16
#define FTX_PWHASH_BYTES 32
/* Password checks running at once (each takes 32 MiB and a core);
 * further LOGINs queue on the loop. */
#define FTX_AUTH_CONCURRENT 2
/* A failed login is answered after this delay. */
#define FTX_LOGIN_FAIL_DELAY_MS 1000
/* Anti-hammering defaults: this many failures from one IP within the
 * window lock that IP out for the lockout time. */
#define FTX_LOGIN_MAX_FAILS 5
#define FTX_LOGIN_WINDOW_S 600
#define FTX_LOGIN_LOCKOUT_S 900
/* IPs tracked for failed logins (the oldest entry is reused). */
#define FTX_LOGIN_TRACK_MAX 4096
/* Failures for one account name, from any address, within the window
 * that lock the name for password logins (--login-account-max-fails;
 * 0 = off).  Four times the per-address default: a user who mistypes
 * does not get there, a guesser spread over many addresses does. */
#define FTX_LOGIN_ACCOUNT_MAX_FAILS 20
/* Account names tracked for failed logins (the oldest idle entry is
 * reused, locked ones last). */
#define FTX_LOGIN_ACCOUNT_TRACK_MAX 1024
/* Addresses remembered per account name as having logged in to it: an
 * account lockout does not apply to them, so a guesser elsewhere cannot
 * lock the owner out of their usual address (the per-address lockout
 * still does). */
#define FTX_LOGIN_GOOD_IPS 4
/* LOGINs of one address whose passwords are queued or being checked at
 * once; more get ERROR BUSY at once, so one address holds at most this
 * many places in the queue of FTX_AUTH_CONCURRENT checks. */
#define FTX_LOGIN_INFLIGHT_PER_IP 2
/* How often the loop looks at the users file besides every connection,
 * LOGIN and SIGHUP, so sessions notice accounts turning on. */
#define FTX_USERS_RECHECK_MS 1000
/* Per-session bandwidth (--max-rate): the token bucket holds this many
 * seconds' worth of bytes, so the rate is smooth well within 10%. */
#define FTX_RATE_BURST_MS 50
/* Quotas and --min-free take sizes like 10G: at most this many bytes. */
#define FTX_SIZE_ARG_MAX (1ULL << 60)
/* TLS: the random id a control session's tickets carry, so a data
 * connection can prove it resumed *that* session. */
#define FTX_TLS_BIND_ID_BYTES 16
/* TLS handshakes (STARTTLS and data connections) must finish within
 * this many seconds. */
#define FTX_TLS_HANDSHAKE_TIMEOUT_S 10
/* "SHA256:" plus 64 hex digits plus NUL. */
#define FTX_FP_LEN (7 + 64 + 1)
/* Client: ~/.config/ftx/known_hosts entries and line length. */
#define FTX_KNOWN_HOSTS_MAX 10000
#define FTX_KNOWN_HOSTS_LINE_MAX 512
/* The client's own configuration (~/.config/ftx/config, FTX_CONFIG:
 * host aliases): at most this many bytes, lines of at most this many,
 * at most this many Host blocks.  A larger file is refused, not cut. */
#define FTX_CLIENT_CONFIG_MAX (64 * 1024)
#define FTX_CLIENT_CONFIG_LINE_MAX 1024
#define FTX_CLIENT_CONFIG_HOSTS_MAX 1000
/* An ftx:// URL on the command line, bytes. */
#define FTX_URL_MAX (FTX_HOST_MAX + 4 * FTX_RPATH_MAX + 64)
/* --gen-cert: days a self-signed certificate is valid. */
#define FTX_CERT_DAYS 3650

/* ---- Folders and batches (docs/PROTOCOL.md "Folders", "Batches") ---- */

/* mtime= on UPLOAD and in MPUT frames: seconds, up to the year 9999
 * (a time_t every libc and file system here takes). */
#define FTX_MTIME_MAX 253402300799ULL
/* MPUT: files per batch before a commit point ("C"); every file of a
 * batch holds an open partial until the commit, so this bounds a
 * batch's descriptors.  MGET: requests a client keeps unanswered. */
#define FTX_BATCH_FILES_MAX 64
/* A batch frame's header line ("F <size> <mtime> <path>", "G <path>",
 * results), LF included: a control line's bound. */
#define FTX_BATCH_LINE_MAX FTX_LINE_MAX
/* The client: files up to this size travel in batches, larger ones
 * singly (UPLOAD/DOWNLOAD, which resume); and the bytes of one MPUT
 * batch before it asks for a commit. */
#define FTX_BATCH_SMALL_MAX (4ULL * 1024 * 1024)
#define FTX_BATCH_BYTES_MAX (8ULL * 1024 * 1024)
/* MPUT: the client sends the next batch before it reads the results of
 * the one before only while those result lines can take at most this
 * much: the server's write of them then fits the socket buffers, so
 * neither side can block writing while the other does too. */
#define FTX_BATCH_UNREAD_MAX (32 * 1024)
/* LS: entries a worker reads for one piece of the stream (a piece also
 * ends once its text passes FTX_LIST_PIECE). */
#define FTX_LS_PIECE_ENTRIES 256
/* The longest ENTRY line: "ENTRY", the type, size and mtime, the
 * SHA-256 or "-", the path with every byte percent-encoded, five
 * spaces, LF. */
#define FTX_ENTRY_LINE_MAX (5 + 1 + 20 + 20 + 64 + 3 * FTX_RPATH_MAX + 5 + 1)

/* ---- Limits that must agree ---- */

/* The longest FILE line of a LIST reply: "FILE", the size and mtime (at
 * most 20 characters each), the SHA-256 in hex or "-", the name with
 * every byte percent-encoded, four spaces and the LF. */
#define FTX_LIST_LINE_MAX (4 + 20 + 20 + 64 + 3 * FTX_NAME_MAX + 4 + 1)

/* Every ENTRY line is a line the client accepts; an LS piece ends once
 * it passes FTX_LIST_PIECE, so it holds at most one more line. */
_Static_assert(
    FTX_ENTRY_LINE_MAX <= FTX_LINE_MAX, "ENTRY line over FTX_LINE_MAX");
_Static_assert(FTX_LIST_PIECE + FTX_ENTRY_LINE_MAX <= FTX_JOB_REPLY_MAX,
    "an LS piece over a job's reply");
/* Every FILE line is a line the client accepts, and fits one piece. */
_Static_assert(
    FTX_LIST_LINE_MAX <= FTX_LINE_MAX, "LIST line over FTX_LINE_MAX");
_Static_assert(FTX_LIST_LINE_MAX <= FTX_LIST_PIECE, "LIST line over a piece");
/* The largest listing fits its snapshot buffer, and the snapshot fits
 * the output budget (else a LIST of a full directory could never be
 * built, or never start). */
_Static_assert(FTX_LIST_TEXT_MAX >= FTX_MAX_LIST_ENTRIES * FTX_LIST_LINE_MAX,
    "FTX_MAX_LIST_ENTRIES worst-case lines over FTX_LIST_TEXT_MAX");
_Static_assert(FTX_LIST_TEXT_MAX <= FTX_OUTPUT_BUDGET,
    "one LIST snapshot over FTX_OUTPUT_BUDGET");
/* Object storage (ftxd --store s3://...).  An upload is buffered and
 * sent in pieces of FTX_S3_PART bytes (each its own object, then one
 * part of the multipart upload that makes the file), and a download is
 * read ahead as much: the memory one S3 transfer holds.  S3 wants every
 * part but the last to be at least 5 MiB. */
#define FTX_S3_PART (8 * 1024 * 1024)
_Static_assert(FTX_S3_PART >= 5 * 1024 * 1024, "S3 parts under 5 MiB");
/* Parts of one upload sent at once, each from a buffer of its own:
 * with the one filling, an upload holds (1 + FTX_S3_INFLIGHT) *
 * FTX_S3_PART bytes. */
#define FTX_S3_INFLIGHT 2
/* At most 10,000 parts make an object: 78 GiB of FTX_S3_PART. */
#define FTX_S3_PARTS_MAX 10000
/* SECURITY: the most of a store's answer (XML of a listing or an error)
 * ftxd keeps; a longer one fails the request. */
#define FTX_S3_XML_MAX (4 * 1024 * 1024)
/* Keys per listing page asked for (S3's own maximum). */
#define FTX_S3_LIST_PAGE 1000
/* An endpoint URL, an access key or secret, an ETag. */
#define FTX_S3_URL_MAX 256
#define FTX_S3_KEY_MAX 128
#define FTX_S3_ETAG_MAX 80
/* A request gets this long to connect, and is cut when it moves less
 * than 1 KiB/s for FTX_S3_STALL_S. */
#define FTX_S3_CONNECT_S 10
#define FTX_S3_STALL_S 30

/* A client that reads never reaches FTX_OUTBUF_MAX: LIST pieces are
 * queued only below FTX_LIST_LOWAT, commands run only below
 * FTX_OUTBUF_SOFT and add at most one reply, chat stops at
 * FTX_CHAT_QUEUE_MAX. */
_Static_assert(FTX_OUTBUF_SOFT < FTX_OUTBUF_MAX, "soft cap above hard cap");
_Static_assert(FTX_LIST_LOWAT + FTX_LIST_PIECE <= FTX_OUTBUF_MAX,
    "a LIST piece could pass FTX_OUTBUF_MAX");
_Static_assert(FTX_JOB_REPLY_MAX >= FTX_LINE_MAX, "a reply line must fit");
_Static_assert(FTX_OUTBUF_SOFT + FTX_JOB_REPLY_MAX <= FTX_OUTBUF_MAX,
    "a command's reply could pass FTX_OUTBUF_MAX");
_Static_assert(FTX_CHAT_QUEUE_MAX + FTX_JOB_REPLY_MAX <= FTX_OUTBUF_MAX,
    "a chat queue and a reply could pass FTX_OUTBUF_MAX");
_Static_assert(
    FTX_OUTBUF_MAX <= FTX_OUTPUT_BUDGET, "one session over FTX_OUTPUT_BUDGET");
/* One address cannot fill the tokenless data connections by itself. */
_Static_assert(FTX_DEFAULT_MAX_PER_IP < FTX_MAX_DCONNS,
    "one address could evict every tokenless data connection");
/* Threads: the kept minimum within the default pool, the pool within
 * its cap. */
_Static_assert(FTX_MIN_WORKERS >= 1 && FTX_MIN_WORKERS <= FTX_DEFAULT_WORKERS,
    "FTX_MIN_WORKERS out of range");
_Static_assert(FTX_DEFAULT_WORKERS <= FTX_MAX_WORKERS, "workers over cap");
/* Timeouts counted in seconds fire within a second, and a failed LOGIN
 * is answered close to FTX_LOGIN_FAIL_DELAY_MS (the tick serves it). */
_Static_assert(
    FTX_TICK_MS > 0 && FTX_TICK_MS < 1000, "tick of a second or more");
_Static_assert(FTX_TICK_MS <= FTX_LOGIN_FAIL_DELAY_MS / 2,
    "the tick would dominate the LOGIN failure delay");

#endif /* FTX_LIMITS_H */
