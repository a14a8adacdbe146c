/*
 * limits.h - every limit, cap and default of ftx in one place.
 *
 * Each value here is enforced by exactly one check in the code and has a
 * hostile-input test (see tests/unit and tests/integration).  Change a
 * value here, not at its point of use.
 */
#ifndef FTX_LIMITS_H
#define FTX_LIMITS_H

#define FTX_VERSION "0.1.0"
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
/* Largest file a client may upload (1 TiB). */
#define FTX_MAX_FILE_SIZE (1ULL << 40)
/* LIST returns at most this many entries (the worst case, 255-byte
 * names fully percent-encoded, fits the 16 MiB reply cap). */
#define FTX_MAX_LIST_ENTRIES 10000

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

/* Server defaults. */
#define FTX_DEFAULT_WORKERS 128
#define FTX_MAX_WORKERS 1024
#define FTX_DEFAULT_MAX_CLIENTS 1024
#define FTX_DEFAULT_MAX_PER_IP 64
#define FTX_DEFAULT_IDLE_TIMEOUT_S 300
#define FTX_DEFAULT_DATA_TIMEOUT_S 60
#define FTX_MAX_TIMEOUT_S 86400
/* Graceful stop: running transfers get this long to finish. */
#define FTX_SHUTDOWN_GRACE_S 10
/* Control output queued for one session before we stop reading it. */
#define FTX_OUTBUF_SOFT (256 * 1024)
/* Worker stack size: transfers need little stack. */
#define FTX_WORKER_STACK (256 * 1024)

/* Client: connect timeout and how long to wait for a reply. */
#define FTX_CONNECT_TIMEOUT_S 10
#define FTX_REPLY_TIMEOUT_S 120

/* Error text buffers passed down by callers. */
#define FTX_ERRLEN 256

#endif /* FTX_LIMITS_H */
