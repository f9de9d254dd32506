/* Incremental parser for the guest console protocol (docs/protocol.md). */
#ifndef HVT_CONSOLE_H
#define HVT_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/** Longest protocol line in bytes, without its "\r\n"; console text is truncated there. */
#define HVT_LINE_MAX 4096
/** Longest check, test or nonce name in bytes. */
#define HVT_NAME_MAX 200
/** Most result lines a run may hold; one more is an ERROR ("too many results"). */
#define HVT_MAX_RESULTS 100000
/** Most bytes of names and details stored for all results together. */
#define HVT_MAX_RESULT_BYTES (64u << 20)
/** Console lines kept for diagnostics unless the caller asks otherwise. */
#define HVT_TAIL_DEFAULT 10
/** Most console lines the caller may ask to keep. */
#define HVT_TAIL_MAX 1000

/** Status of one check, and of a whole run. */
enum hvt_status {
	HVT_PASS,
	HVT_FAIL,
	HVT_SKIP,
	HVT_ERROR,
};

/** Why a stream is not a complete coherent run (HVT_STREAM_OK when it is). */
enum hvt_stream_error {
	HVT_STREAM_OK,
	HVT_STREAM_UNFINISHED,   /**< hvt_console_finish() was not called yet */
	HVT_STREAM_NO_BEGIN,     /**< no begin marker: the guest never started */
	HVT_STREAM_RESET,        /**< a second begin marker: the guest was reset */
	HVT_STREAM_PROTO,        /**< begin marker with an unsupported protocol version */
	HVT_STREAM_MALFORMED,    /**< a protocol line that does not match the grammar */
	HVT_STREAM_OVERLONG,     /**< a protocol line longer than HVT_LINE_MAX */
	HVT_STREAM_SEQ,          /**< a result's sequence number is not the previous one plus one */
	HVT_STREAM_NONCE,        /**< the nonce differs from the expected one */
	HVT_STREAM_END_MISMATCH, /**< the end marker's counts or status disagree with the results */
	HVT_STREAM_NO_END,       /**< no end marker: the output is truncated */
	HVT_STREAM_AFTER_END,    /**< a protocol line after the end marker */
	HVT_STREAM_TOO_MANY,     /**< more results than HVT_MAX_RESULTS or HVT_MAX_RESULT_BYTES */
	HVT_STREAM_NOMEM,        /**< the parser ran out of memory */
};

/** One result line, in stream order. */
struct hvt_result {
	unsigned long seq;      /**< its sequence number (1, 2, ...) */
	enum hvt_status status; /**< PASS, FAIL, SKIP or ERROR */
	const char *name;       /**< check name ("-" for an ERROR that concerns no check) */
	const char *detail;     /**< FAIL detail, SKIP/ERROR reason; "" for PASS */
};

/** Result counts, per status. */
struct hvt_counts {
	unsigned long pass, fail, skip, error;
};

/** Parser state: opaque. */
struct hvt_console;

/**
 * Create a parser.
 * @param nonce  the nonce the runner passed to the guest: BEGIN and END must carry exactly it;
 *               NULL accepts any nonce (END must still repeat BEGIN's)
 * @param tail   console lines to keep for diagnostics (clamped to HVT_TAIL_MAX)
 * @return the parser, or NULL when out of memory
 */
struct hvt_console *hvt_console_new(const char *nonce, size_t tail);

/**
 * Feed the next bytes of the stream; chunks may split lines anywhere.
 * Bytes fed after hvt_console_finish() are ignored.
 */
void hvt_console_feed(struct hvt_console *c, const void *data, size_t len);

/** Mark the end of the stream and decide the verdict. Idempotent. */
void hvt_console_finish(struct hvt_console *c);

/** Release the parser and everything it returned. NULL is ignored. */
void hvt_console_free(struct hvt_console *c);

/**
 * The guest's verdict, before expected failures are applied: the END status of a complete
 * coherent run, else HVT_ERROR (also before hvt_console_finish()).
 */
enum hvt_status hvt_console_verdict(const struct hvt_console *c);

/** Why the stream is incoherent; HVT_STREAM_OK for a complete coherent run. */
enum hvt_stream_error hvt_console_error(const struct hvt_console *c);

/**
 * Human-readable reason for an ERROR verdict (printable ASCII, one line); "" otherwise.
 * For a coherent run that reported ERROR it names the first check that errored.
 */
const char *hvt_console_reason(const struct hvt_console *c);

/** Number of result lines recorded (recording stops at the first stream error). */
size_t hvt_console_result_count(const struct hvt_console *c);

/** Result @p i (0-based, stream order), or NULL when out of range. */
const struct hvt_result *hvt_console_result(const struct hvt_console *c, size_t i);

/** Counts of the recorded results, per status. */
struct hvt_counts hvt_console_seen_counts(const struct hvt_console *c);

/**
 * The counts the guest reported in its end marker.
 * @return false when no well-formed end marker was seen (then @p out is zeroed)
 */
bool hvt_console_end_counts(const struct hvt_console *c, struct hvt_counts *out);

/** Whether a well-formed begin marker was seen. */
bool hvt_console_saw_begin(const struct hvt_console *c);

/** Whether a well-formed end marker was seen. */
bool hvt_console_saw_end(const struct hvt_console *c);

/** The test= field of the begin marker, or NULL. */
const char *hvt_console_test(const struct hvt_console *c);

/** The nonce= field of the begin marker, or NULL. */
const char *hvt_console_nonce(const struct hvt_console *c);

/** Number of lines in the stream so far (a final line without "\n" counts after finish). */
unsigned long hvt_console_line_count(const struct hvt_console *c);

/** Number of console lines kept for diagnostics (at most the requested tail). */
size_t hvt_console_tail_count(const struct hvt_console *c);

/**
 * Kept console line @p i, 0 being the oldest, or NULL when out of range. Bytes outside
 * printable ASCII are escaped as \\xNN and a backslash as \\\\; an overlong line ends with
 * " [... N more bytes]".
 */
const char *hvt_console_tail_line(const struct hvt_console *c, size_t i);

/** "PASS", "FAIL", "SKIP" or "ERROR". */
const char *hvt_status_name(enum hvt_status s);

/** Short symbolic name of a stream error ("ok", "no-begin", "seq", ...). */
const char *hvt_stream_error_name(enum hvt_stream_error e);

#endif
