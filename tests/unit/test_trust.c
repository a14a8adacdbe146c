/*
 * test_trust.c - unit tests for ftx/trust.c, the client's trust-on-first
 * use store of TLS certificate fingerprints (known_hosts), and for the
 * fingerprint normalisation it relies on (tls_fingerprint_parse).
 *
 * The known_hosts file is input we did not write ourselves (a user may
 * edit it, a tool may corrupt it), so hostile lines must be ignored
 * without ever making an unknown server look known, and a file others
 * may write must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "limits.h"
#include "tls.h"
#include "trust.h"

#define FPA                                                                    \
	"SHA256:"                                                              \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define FPB                                                                    \
	"SHA256:"                                                              \
	"2222222222222222222222222222222222222222222222222222222222222222"
#define HEXC "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define FPC "SHA256:" HEXC

/* A private temporary directory per test, removed afterwards. */
struct tmp {
	char dir[64];
	char path[128];
};

static int
tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_trust.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/sub/ftx/known_hosts", t->dir);
	*state = t;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
parse(const char *line, char *key, char *fp)
{
	return trust_parse_line(
	    line, strlen(line), key, TRUST_KEY_MAX, fp, FTX_FP_LEN);
}

static void
test_fingerprint_parse(void **state)
{
	char fp[FTX_FP_LEN], colons[200];
	size_t i, k = 0;

	assert_int_equal(tls_fingerprint_parse(FPC, fp, sizeof(fp)), 0);
	assert_string_equal(fp, FPC);
	/* Upper case, no prefix, lower-case prefix. */
	assert_int_equal(tls_fingerprint_parse(
			     "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEF"
			     "ABCDEFABCDEFABCD",
			     fp, sizeof(fp)),
	    0);
	assert_string_equal(fp, FPC);
	assert_int_equal(
	    tls_fingerprint_parse("sha256:" HEXC, fp, sizeof(fp)), 0);
	assert_string_equal(fp, FPC);
	/* The openssl x509 -fingerprint form: pairs and colons. */
	for (i = 0; i < 64; i += 2) {
		colons[k++] = (char)(HEXC[i] - 'a' + 'A');
		colons[k++] = (char)(HEXC[i + 1] - 'a' + 'A');
		colons[k++] = ':';
	}
	colons[k - 1] = '\0';
	assert_int_equal(tls_fingerprint_parse(colons, fp, sizeof(fp)), 0);
	assert_string_equal(fp, FPC);
	/* Too short, too long, not hex, empty, only the prefix, spaces,
	 * another hash. */
	assert_int_equal(
	    tls_fingerprint_parse("SHA256:" HEXC "0", fp, sizeof(fp)), -1);
	assert_int_equal(
	    tls_fingerprint_parse("SHA256:abc", fp, sizeof(fp)), -1);
	assert_int_equal(tls_fingerprint_parse(
			     "SHA256:gbcdefabcdefabcdefabcdefabcdefabcdefabcdef"
			     "abcdefabcdefabcdefabcd",
			     fp, sizeof(fp)),
	    -1);
	assert_int_equal(tls_fingerprint_parse("", fp, sizeof(fp)), -1);
	assert_int_equal(tls_fingerprint_parse("SHA256:", fp, sizeof(fp)), -1);
	assert_int_equal(
	    tls_fingerprint_parse("SHA256: " HEXC, fp, sizeof(fp)), -1);
	assert_int_equal(
	    tls_fingerprint_parse("MD5:" HEXC, fp, sizeof(fp)), -1);
	/* The output must fit. */
	assert_int_equal(tls_fingerprint_parse(FPC, fp, 10), -1);
}

static void
test_key(void **state)
{
	char key[TRUST_KEY_MAX], longhost[FTX_HOST_MAX + 2];

	assert_int_equal(trust_key(key, sizeof(key), "Example.COM", 5001), 0);
	assert_string_equal(key, "example.com:5001");
	assert_int_equal(trust_key(key, sizeof(key), "127.0.0.1", 1), 0);
	assert_string_equal(key, "127.0.0.1:1");
	assert_int_equal(trust_key(key, sizeof(key), "::1", 65535), 0);
	assert_string_equal(key, "[::1]:65535");
	assert_int_equal(trust_key(key, sizeof(key), "FE80::1%lo", 5001), 0);
	assert_string_equal(key, "[fe80::1%lo]:5001");
	/* SECURITY: nothing that could end a field or a line, or reach a
	 * terminal as a control sequence. */
	assert_int_equal(trust_key(key, sizeof(key), "a b", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "a\nb", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "a#b", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "[::1]", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "\x1b[31m", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "", 1), -1);
	assert_int_equal(trust_key(key, sizeof(key), "a", 0), -1);
	assert_int_equal(trust_key(key, sizeof(key), "a", 65536), -1);
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(trust_key(key, sizeof(key), longhost, 1), -1);
	longhost[FTX_HOST_MAX] = '\0';
	assert_int_equal(trust_key(key, sizeof(key), longhost, 65535), 0);
}

static void
test_parse_line(void **state)
{
	char key[TRUST_KEY_MAX], fp[FTX_FP_LEN];
	char line[FTX_KNOWN_HOSTS_LINE_MAX + 2];

	assert_int_equal(parse("host:5001 " FPA, key, fp), 1);
	assert_string_equal(key, "host:5001");
	assert_string_equal(fp, FPA);
	/* Blanks, tabs, CR LF, and a normalised key and fingerprint. */
	assert_int_equal(parse("  HOST:5001\t\t" FPC "  \r", key, fp), 1);
	assert_string_equal(key, "host:5001");
	assert_string_equal(fp, FPC);
	assert_int_equal(parse("[::1]:5001 " FPA, key, fp), 1);
	assert_string_equal(key, "[::1]:5001");
	/* Comments and blank lines. */
	assert_int_equal(parse("", key, fp), 0);
	assert_int_equal(parse("   \t\r", key, fp), 0);
	assert_int_equal(parse("# host:5001 " FPA, key, fp), 0);
	assert_int_equal(parse("   # indented", key, fp), 0);
	/* Malformed: fields missing or extra, bad ports, bad hosts, bad
	 * fingerprints. */
	assert_int_equal(parse("host:5001", key, fp), -1);
	assert_int_equal(parse("host:5001 " FPA " extra", key, fp), -1);
	assert_int_equal(parse("host:5001 " FPA " # comment", key, fp), -1);
	assert_int_equal(parse("host " FPA, key, fp), -1);
	assert_int_equal(parse("host: " FPA, key, fp), -1);
	assert_int_equal(parse(":5001 " FPA, key, fp), -1);
	assert_int_equal(parse("host:0 " FPA, key, fp), -1);
	assert_int_equal(parse("host:65536 " FPA, key, fp), -1);
	assert_int_equal(parse("host:-1 " FPA, key, fp), -1);
	assert_int_equal(parse("host:50x1 " FPA, key, fp), -1);
	assert_int_equal(parse("::1:5001 " FPA, key, fp), -1);
	assert_int_equal(parse("[host]:5001 " FPA, key, fp), -1);
	assert_int_equal(parse("[]:5001 " FPA, key, fp), -1);
	assert_int_equal(parse("[::1:5001 " FPA, key, fp), -1);
	assert_int_equal(parse("ho st:5001 " FPA, key, fp), -1);
	assert_int_equal(parse("host:5001 SHA256:1234", key, fp), -1);
	assert_int_equal(parse("host:5001 " FPA "1", key, fp), -1);
	assert_int_equal(parse("host:5001 MD5:" HEXC, key, fp), -1);
	/* A NUL inside the line must not hide what follows it. */
	assert_int_equal(
	    trust_parse_line("host:5001 " FPA "\0junk",
		strlen("host:5001 " FPA) + 5, key, sizeof(key), fp, sizeof(fp)),
	    -1);
	/* The longest line is fine, one byte more is not. */
	memset(line, ' ', sizeof(line));
	line[0] = '#';
	assert_int_equal(trust_parse_line(line, FTX_KNOWN_HOSTS_LINE_MAX, key,
			     sizeof(key), fp, sizeof(fp)),
	    0);
	assert_int_equal(trust_parse_line(line, FTX_KNOWN_HOSTS_LINE_MAX + 1,
			     key, sizeof(key), fp, sizeof(fp)),
	    -1);
}

static void
test_scan(void **state)
{
	const char *text = "# known servers\n"
			   "a.example:5001 " FPA "\n"
			   "garbage line\n"
			   "\n"
			   "B.EXAMPLE:5001 " FPB "\n"
			   "b.example:5002 " FPC "\n"
			   "dup:1 " FPA "\n"
			   "dup:1 " FPB "\n"
			   "last:1 " FPC; /* no LF at the end */
	struct trust_result r;
	char err[256];

	assert_int_equal(trust_scan(text, strlen(text), "a.example:5001", FPA,
			     &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(r.entries, 6);
	assert_int_equal(r.bad, 1);
	/* The same host on another port is another server. */
	assert_int_equal(trust_scan(text, strlen(text), "a.example:5002", FPA,
			     &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_UNKNOWN);
	/* Changed: the stored fingerprint and its line are reported. */
	assert_int_equal(trust_scan(text, strlen(text), "b.example:5001", FPA,
			     &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_CHANGED);
	assert_string_equal(r.stored, FPB);
	assert_int_equal(r.line, 5);
	/* Duplicates: any matching entry is a match, none is a change
	 * (reported at the first). */
	assert_int_equal(
	    trust_scan(text, strlen(text), "dup:1", FPB, &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(
	    trust_scan(text, strlen(text), "dup:1", FPC, &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_CHANGED);
	assert_int_equal(r.line, 7);
	assert_string_equal(r.stored, FPA);
	assert_int_equal(
	    trust_scan(text, strlen(text), "last:1", FPC, &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_MATCH);
	/* SECURITY: a bad line naming the host never counts for it. */
	text = "evil:1 " FPA " extra\n"
	       "evil:1 SHA256:" HEXC "ff\n";
	assert_int_equal(
	    trust_scan(text, strlen(text), "evil:1", FPA, &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_UNKNOWN);
	assert_int_equal(r.bad, 2);
	/* Empty input. */
	assert_int_equal(
	    trust_scan("", 0, "x:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_UNKNOWN);
}

static void
test_scan_too_many(void **state)
{
	size_t per = strlen("h00000:1 " FPA "\n"), n = FTX_KNOWN_HOSTS_MAX + 1;
	struct trust_result r;
	char err[256], *text, *p;
	size_t i;

	text = malloc(per * n + 1);
	assert_non_null(text);
	for (p = text, i = 0; i < n; i++, p += per)
		snprintf(p, per + 1, "h%05zu:1 " FPA "\n", i);
	/* At the limit: fine. */
	assert_int_equal(trust_scan(text, per * (n - 1), "h00000:1", FPA, &r,
			     err, sizeof(err)),
	    0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(
	    trust_scan(text, per * n, "h00000:1", FPA, &r, err, sizeof(err)),
	    -1);
	free(text);
}

static void
test_replace(void **state)
{
	const char *text = "# comment\n"
			   "a:1 " FPA "\n"
			   "junk that stays\n"
			   "A:1 " FPB "\n"
			   "b:1 " FPB;
	char err[256], *out;
	size_t n;

	assert_int_equal(trust_replace(text, strlen(text), "a:1", FPC, &out, &n,
			     err, sizeof(err)),
	    0);
	assert_int_equal(n,
	    strlen("# comment\njunk that stays\nb:1 " FPB "\na:1 " FPC "\n"));
	assert_memory_equal(
	    out, "# comment\njunk that stays\nb:1 " FPB "\na:1 " FPC "\n", n);
	free(out);
	assert_int_equal(
	    trust_replace("", 0, "[::1]:2", FPA, &out, &n, err, sizeof(err)),
	    0);
	assert_memory_equal(out, "[::1]:2 " FPA "\n", n);
	free(out);
}

static void
test_changed_text(void **state)
{
	struct trust_result r;
	char out[2048];

	memset(&r, 0, sizeof(r));
	r.status = TRUST_CHANGED;
	r.line = 42;
	strcpy(r.stored, FPA);
	assert_int_equal(trust_changed_text(out, sizeof(out), "h:1", FPB,
			     "/home/u/.config/ftx/known_hosts", &r),
	    0);
	assert_non_null(strstr(out, "WARNING"));
	assert_non_null(strstr(out, "CHANGED"));
	assert_non_null(strstr(out, FPA));
	assert_non_null(strstr(out, FPB));
	assert_non_null(strstr(out, "(line 42)"));
	assert_non_null(strstr(out, "/home/u/.config/ftx/known_hosts"));
	/* Loud means several lines. */
	assert_true(
	    strchr(strchr(strchr(out, '\n') + 1, '\n') + 1, '\n') != NULL);
	assert_int_equal(trust_changed_text(out, 100, "h:1", FPB, "f", &r), -1);
}

static void
test_file_add_check(void **state)
{
	struct tmp *t = *state;
	struct trust_result r;
	char err[256], sub[160];
	struct stat sb;

	/* No file: nobody is known. */
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_UNKNOWN);
	/* Adding creates the directories (0700) and the file (0600). */
	assert_int_equal(trust_add(t->path, "h:1", FPA, err, sizeof(err)), 0);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(sub, sizeof(sub), "%s/sub/ftx", t->dir);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(sub, sizeof(sub), "%s/sub", t->dir);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPB, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_CHANGED);
	/* A second host, then a replacement of the first. */
	assert_int_equal(trust_add(t->path, "g:2", FPB, err, sizeof(err)), 0);
	assert_int_equal(trust_add(t->path, "h:1", FPC, err, sizeof(err)), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPC, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(r.entries, 2);
	assert_int_equal(
	    trust_check(t->path, "g:2", FPB, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	/* No temporaries left behind. */
	snprintf(sub, sizeof(sub),
	    "ls -A '%s/sub/ftx' | grep -qv '^known_hosts$'", t->dir);
	assert_int_not_equal(system(sub), 0);
}

static void
test_file_modes(void **state)
{
	struct tmp *t = *state;
	struct trust_result r;
	char err[256];

	assert_int_equal(trust_add(t->path, "h:1", FPA, err, sizeof(err)), 0);
	/* SECURITY: writable by group or others: refused, both for
	 * reading and for updating. */
	assert_int_equal(chmod(t->path, 0620), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "written by others"));
	assert_int_equal(trust_add(t->path, "g:1", FPA, err, sizeof(err)), -1);
	assert_int_equal(chmod(t->path, 0602), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), -1);
	/* Readable by others is only untidy. */
	assert_int_equal(chmod(t->path, 0644), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	/* An update leaves it 0600. */
	assert_int_equal(trust_add(t->path, "g:1", FPA, err, sizeof(err)), 0);
	{
		struct stat sb;

		assert_int_equal(stat(t->path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
}

static void
test_dir_modes(void **state)
{
	struct tmp *t = *state;
	struct trust_result r;
	char err[256], dir[160];

	(void)snprintf(dir, sizeof(dir), "%s/sub/ftx", t->dir);
	assert_int_equal(trust_add(t->path, "h:1", FPA, err, sizeof(err)), 0);
	/* SECURITY: a directory others may write lets them delete the
	 * file, which would make every server new again: refused, for
	 * reading and for updating, whatever the file's own mode. */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "changed by others"));
	assert_int_equal(trust_add(t->path, "g:1", FPA, err, sizeof(err)), -1);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), -1);
	/* The sticky bit (as on /tmp) stops others from touching it. */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(chmod(dir, 0700), 0);
}

static void
test_file_owner(void **state)
{
	struct tmp *t = *state;
	struct trust_result r;
	char err[256];

	/* Only root can give a file away. */
	if (geteuid() != 0)
		skip();
	assert_int_equal(trust_add(t->path, "h:1", FPA, err, sizeof(err)), 0);
	/* SECURITY: a file owned by another user is that user's to write,
	 * whatever its mode: refused, for reading and for updating. */
	assert_int_equal(chown(t->path, 65534, 65534), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "written by others"));
	assert_int_equal(trust_add(t->path, "g:1", FPA, err, sizeof(err)), -1);
	/* Ours (root's, here) again: trusted. */
	assert_int_equal(chown(t->path, 0, 0), 0);
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
}

static void
test_file_hostile(void **state)
{
	struct tmp *t = *state;
	struct trust_result r;
	char err[256], p[200], target[200];
	struct stat sb;
	FILE *f;

	/* A directory where the file should be. */
	snprintf(p, sizeof(p), "%s/dir", t->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(trust_check(p, "h:1", FPA, &r, err, sizeof(err)), -1);
	/* Too large to be ours: refused, not read. */
	snprintf(p, sizeof(p), "%s/huge", t->dir);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(
	    ftruncate(fileno(f),
		(off_t)FTX_KNOWN_HOSTS_MAX * (FTX_KNOWN_HOSTS_LINE_MAX + 1) +
		    1),
	    0);
	fclose(f);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(trust_check(p, "h:1", FPA, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	/* Overlong, NUL-laden and binary lines are ignored and kept. */
	snprintf(p, sizeof(p), "%s/odd", t->dir);
	{
		char big[FTX_KNOWN_HOSTS_LINE_MAX + 64];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "h:1 ", 4);
		f = fopen(p, "w");
		assert_non_null(f);
		fprintf(f, "%s\n\x01\x02\xff\n", big);
		fwrite("h:1 \0" FPA "\n", 1, strlen(FPA) + 6, f);
		fclose(f);
	}
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(trust_check(p, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_UNKNOWN);
	assert_int_equal(r.bad, 3);
	assert_int_equal(trust_add(p, "h:1", FPA, err, sizeof(err)), 0);
	assert_int_equal(trust_check(p, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
	assert_int_equal(r.bad, 3);
	/* A symlinked file is updated where it points. */
	snprintf(target, sizeof(target), "%s/real_known_hosts", t->dir);
	write_file(target, "# mine\n", 0600);
	snprintf(p, sizeof(p), "%s/link", t->dir);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(trust_add(p, "h:1", FPB, err, sizeof(err)), 0);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(
	    trust_check(target, "h:1", FPB, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
}

static void
test_verify(void **state)
{
	struct tmp *t = *state;
	struct trust_policy p;
	struct trust_result r;
	char err[256];
	int changed;

	memset(&p, 0, sizeof(p));
	p.file = t->path;
	/* Unknown, not asking, not accepting: refused, nothing stored. */
	assert_int_equal(
	    trust_verify(&p, "h:1", FPA, &changed, err, sizeof(err)), -1);
	assert_int_equal(changed, 0);
	assert_non_null(strstr(err, "--accept-new"));
	assert_int_equal(access(t->path, F_OK), -1);
	/* --pin: compared, nothing stored. */
	p.pin = FPA;
	assert_int_equal(
	    trust_verify(&p, "h:1", FPA, &changed, err, sizeof(err)), 0);
	assert_int_equal(
	    trust_verify(&p, "h:1", FPB, &changed, err, sizeof(err)), -1);
	assert_int_equal(access(t->path, F_OK), -1);
	p.pin = NULL;
	/* --accept-new stores; then it is known. */
	p.accept_new = 1;
	assert_int_equal(
	    trust_verify(&p, "h:1", FPA, &changed, err, sizeof(err)), 0);
	p.accept_new = 0;
	assert_int_equal(
	    trust_verify(&p, "h:1", FPA, &changed, err, sizeof(err)), 0);
	/* A changed fingerprint is refused even with --accept-new, and the
	 * stored one stays. */
	p.accept_new = 1;
	assert_int_equal(
	    trust_verify(&p, "h:1", FPB, &changed, err, sizeof(err)), -1);
	assert_int_equal(changed, 1);
	assert_non_null(strstr(err, "CHANGED"));
	assert_int_equal(
	    trust_check(t->path, "h:1", FPA, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, TRUST_MATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_parse),
	    cmocka_unit_test(test_key),
	    cmocka_unit_test(test_parse_line),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_scan_too_many),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_changed_text),
	    cmocka_unit_test_setup_teardown(
		test_file_add_check, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
		test_file_modes, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
		test_file_hostile, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
		test_file_owner, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
		test_dir_modes, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
		test_verify, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
