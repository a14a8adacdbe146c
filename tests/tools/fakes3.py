#!/usr/bin/env python3
"""fakes3.py - an S3-compatible endpoint in memory that can be told to
misbehave, for tests/integration/t_s3hostile.sh.

    python3 fakes3.py --bind 127.0.0.3 [--port 0] [--bucket NAME]
                      [--lifetime SECS] [--log FILE]

Prints "listening port=N" once it accepts connections, and exits by
itself after --lifetime seconds (default 120) whatever happens.

It speaks the path-style requests ftxd's s3.c sends: ListObjectsV2,
ListMultipartUploads, HEAD/GET (Range, If-Match), PUT (metadata, copy,
tagging), DELETE, and multipart uploads (initiate, part, part copy,
complete, abort).  It does NOT check signatures, content hashes or
credentials (t_cluster runs against a real store for that); it answers
whatever it is told to answer.

Control requests (the path starts with /_ctl, never a bucket name):
  POST /_ctl/fault?method=M&key=RE[&q=RE]&kind=K[&count=N][&skip=N]
        [&code=C][&status=S]   add a fault: the next requests whose
                      method is M (or any: "*"), whose key (or "" for
                      the bucket) matches the regular expression `key`
                      and whose raw query string matches `q` (e.g. ^$:
                      none, for an object's own GET) are answered
                      wrongly, after `skip` matching ones went through,
                      `count` times (default 1; -1: always).  Kinds:
        error         status S (default 500) with an <Error> of code C
        extra         a ranged GET answered with 1 KiB more than asked
        short         a ranged GET answered honestly with half the range
        cut           a GET that announces its whole length, sends half
                      of it and closes the connection
        corrupt       a GET whose bytes are right in number, one wrong
        huge          a listing padded past 5 MiB
  POST /_ctl/clear    drop every fault
  GET  /_ctl/keys     every key of the bucket, one "SIZE KEY" a line
  GET  /_ctl/uploads  the multipart uploads in progress, "UID KEY" a line
  GET  /_ctl/obj/KEY  an object's bytes;  PUT /_ctl/obj/KEY  replace them
                      (its metadata is kept; a new key gets none)
  GET  /_ctl/log      the requests answered so far, "METHOD PATH STATUS"
"""

import argparse
import hashlib
import os
import re
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

LOCK = threading.RLock()
OBJS = {}  # key -> dict(data, meta, tags, etag, mtime)
UPLOADS = {}  # uid -> dict(key, parts{n: (etag, bytes)}, meta, started)
FAULTS = []
REQLOG = []
COUNTER = [0]
BUCKET = "bucket"


def now_iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def obj_new(data, meta):
    return {
        "data": bytes(data),
        "meta": dict(meta),
        "tags": {},
        "etag": '"%s"' % hashlib.md5(data).hexdigest(),
        "mtime": time.time(),
    }


def take_fault(method, key, query):
    """The fault that applies to this request, if any (consumed)."""
    with LOCK:
        for f in FAULTS:
            if f["method"] not in ("*", method):
                continue
            if not re.search(f["key"], key) or not re.search(f["q"], query):
                continue
            if f["skip"] > 0:
                f["skip"] -= 1
                continue
            if f["count"] == 0:
                continue
            if f["count"] > 0:
                f["count"] -= 1
            return dict(f)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakes3"

    def log_message(self, fmt, *args):
        pass

    # ---- answers

    def answer(self, status, body=b"", headers=None, ctype=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        if self.command != "HEAD" or "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        with LOCK:
            REQLOG.append("%s %s %d" % (self.command, self.path, status))

    def error(self, status, code, msg="", extra=""):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            "<Message>%s</Message>%s<RequestId>fake</RequestId></Error>"
            % (code, escape(msg), extra)
        )
        self.answer(status, body, ctype="application/xml")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def parse(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        path = urllib.parse.unquote(u.path)
        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else None
        return bucket, key, q

    def dispatch(self):
        if self.path.startswith("/_ctl/"):
            return self.control()
        bucket, key, q = self.parse()
        data = self.body() if self.command in ("PUT", "POST") else b""
        if bucket != BUCKET:
            return self.error(
                404, "NoSuchBucket", "The specified bucket does not exist"
            )
        f = take_fault(self.command, key or "", urllib.parse.urlsplit(self.path).query)
        if f is not None and f["kind"] == "error":
            code = f["code"] or "InternalError"
            return self.error(f["status"], code, "injected by fakes3")
        if key is None or key == "":
            if self.command == "GET" and "uploads" in q:
                return self.list_uploads(q)
            if self.command in ("GET", "HEAD"):
                return self.list_objects(q, f)
            return self.error(405, "MethodNotAllowed")
        if self.command == "HEAD":
            return self.head(key)
        if self.command == "GET":
            if "tagging" in q:
                return self.get_tags(key)
            return self.get(key, f)
        if self.command == "PUT":
            if "tagging" in q:
                return self.put_tags(key, data)
            if "uploadId" in q:
                return self.put_part(key, q, data)
            return self.put(key, data)
        if self.command == "POST":
            if "uploads" in q:
                return self.mp_begin(key)
            if "uploadId" in q:
                return self.mp_end(key, q, data)
        if self.command == "DELETE":
            if "uploadId" in q:
                with LOCK:
                    up = UPLOADS.pop(q["uploadId"], None)
                if up is None:
                    return self.error(404, "NoSuchUpload")
                return self.answer(204)
            with LOCK:
                OBJS.pop(key, None)
            return self.answer(204)
        return self.error(405, "MethodNotAllowed")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = dispatch

    # ---- objects

    def meta_from_headers(self):
        return {
            k.lower(): v
            for k, v in self.headers.items()
            if k.lower().startswith("x-amz-meta-")
        }

    def obj_headers(self, o):
        h = {
            "ETag": o["etag"],
            "Last-Modified": formatdate(o["mtime"], usegmt=True),
            "Accept-Ranges": "bytes",
        }
        h.update(o["meta"])
        if o["tags"]:
            h["x-amz-tagging-count"] = str(len(o["tags"]))
        return h

    def head(self, key):
        with LOCK:
            o = OBJS.get(key)
        if o is None:
            return self.answer(404)
        h = self.obj_headers(o)
        h["Content-Length"] = str(len(o["data"]))
        return self.answer(200, b"", h)

    def get(self, key, f):
        with LOCK:
            o = OBJS.get(key)
        if o is None:
            return self.error(404, "NoSuchKey", "The specified key does not exist.")
        im = self.headers.get("If-Match")
        if im is not None and im != o["etag"]:
            return self.error(412, "PreconditionFailed")
        data = o["data"]
        size = len(data)
        status, first, last = 200, 0, size - 1
        rng = self.headers.get("Range")
        if rng:
            m = re.match(r"bytes=(\d+)-(\d*)$", rng)
            if not m:
                return self.error(400, "InvalidArgument", "bad range")
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else size - 1
            if first >= size:
                return self.error(416, "InvalidRange")
            last = min(last, size - 1)
            status = 206
        chunk = data[first : last + 1]
        h = self.obj_headers(o)
        kind = f["kind"] if f is not None else None
        if kind == "extra":
            chunk = chunk + b"X" * 1024
        elif kind == "short" and len(chunk) > 1:
            chunk = chunk[: len(chunk) // 2]
            last = first + len(chunk) - 1
        elif kind == "corrupt" and len(chunk) > 0:
            i = len(chunk) // 2
            chunk = chunk[:i] + bytes([chunk[i] ^ 0x55]) + chunk[i + 1 :]
        if status == 206:
            h["Content-Range"] = "bytes %d-%d/%d" % (first, first + len(chunk) - 1, size)
        if kind == "cut":
            self.send_response(status)
            for k, v in h.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk[: len(chunk) // 2])
            self.wfile.flush()
            self.close_connection = True
            with LOCK:
                REQLOG.append("%s %s cut" % (self.command, self.path))
            return
        return self.answer(status, chunk, h)

    def put(self, key, data):
        src = self.headers.get("x-amz-copy-source")
        if src is not None:
            skey = urllib.parse.unquote(src).lstrip("/").split("/", 1)[1]
            with LOCK:
                so = OBJS.get(skey)
            if so is None:
                return self.error(404, "NoSuchKey", "no copy source")
            meta = so["meta"]
            if self.headers.get("x-amz-metadata-directive") == "REPLACE":
                meta = self.meta_from_headers()
            o = obj_new(so["data"], meta)
            with LOCK:
                OBJS[key] = o
            return self.answer(
                200,
                "<CopyObjectResult><ETag>%s</ETag><LastModified>%s"
                "</LastModified></CopyObjectResult>"
                % (escape(o["etag"]), now_iso(o["mtime"])),
                ctype="application/xml",
            )
        o = obj_new(data, self.meta_from_headers())
        with LOCK:
            OBJS[key] = o
        return self.answer(200, b"", {"ETag": o["etag"]})

    def get_tags(self, key):
        with LOCK:
            o = OBJS.get(key)
        if o is None:
            return self.error(404, "NoSuchKey")
        tags = "".join(
            "<Tag><Key>%s</Key><Value>%s</Value></Tag>" % (escape(k), escape(v))
            for k, v in o["tags"].items()
        )
        return self.answer(
            200,
            "<Tagging><TagSet>%s</TagSet></Tagging>" % tags,
            ctype="application/xml",
        )

    def put_tags(self, key, data):
        text = data.decode("utf-8", "replace")
        tags = dict(
            re.findall(r"<Tag><Key>(.*?)</Key><Value>(.*?)</Value></Tag>", text)
        )
        with LOCK:
            o = OBJS.get(key)
            if o is None:
                return self.error(404, "NoSuchKey")
            o["tags"] = tags
        return self.answer(200)

    # ---- multipart

    def mp_begin(self, key):
        with LOCK:
            COUNTER[0] += 1
            uid = "up%08d" % COUNTER[0]
            UPLOADS[uid] = {
                "key": key,
                "parts": {},
                "meta": self.meta_from_headers(),
                "started": time.time(),
            }
        return self.answer(
            200,
            "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
            "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
            % (BUCKET, escape(key), uid),
            ctype="application/xml",
        )

    def put_part(self, key, q, data):
        uid = q["uploadId"]
        n = int(q.get("partNumber", "0"))
        with LOCK:
            up = UPLOADS.get(uid)
        if up is None or up["key"] != key:
            return self.error(404, "NoSuchUpload")
        if not 1 <= n <= 10000:
            return self.error(400, "InvalidArgument", "part number")
        src = self.headers.get("x-amz-copy-source")
        if src is not None:
            skey = urllib.parse.unquote(src).lstrip("/").split("/", 1)[1]
            with LOCK:
                so = OBJS.get(skey)
            if so is None:
                return self.error(404, "NoSuchKey")
            data = so["data"]
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        with LOCK:
            up["parts"][n] = (etag, bytes(data))
        if src is not None:
            return self.answer(
                200,
                "<CopyPartResult><ETag>%s</ETag></CopyPartResult>" % escape(etag),
                ctype="application/xml",
            )
        return self.answer(200, b"", {"ETag": etag})

    def mp_end(self, key, q, data):
        uid = q["uploadId"]
        with LOCK:
            up = UPLOADS.get(uid)
        if up is None or up["key"] != key:
            return self.error(404, "NoSuchUpload")
        text = data.decode("utf-8", "replace")
        want = re.findall(
            r"<Part><PartNumber>(\d+)</PartNumber><ETag>(.*?)</ETag></Part>", text
        )
        if not want:
            return self.error(400, "MalformedXML")
        out, md5s = [], b""
        for i, (n, etag) in enumerate(want):
            n = int(n)
            got = up["parts"].get(n)
            if n != i + 1 or got is None or got[0] != etag.replace("&quot;", '"'):
                return self.error(400, "InvalidPart", "part %d" % n)
            if i < len(want) - 1 and len(got[1]) < 5 * 1024 * 1024:
                return self.error(400, "EntityTooSmall")
            out.append(got[1])
            md5s += hashlib.md5(got[1]).digest()
        o = obj_new(b"".join(out), up["meta"])
        o["etag"] = '"%s-%d"' % (hashlib.md5(md5s).hexdigest(), len(want))
        with LOCK:
            OBJS[key] = o
            UPLOADS.pop(uid, None)
        return self.answer(
            200,
            "<CompleteMultipartUploadResult><Key>%s</Key><ETag>%s</ETag>"
            "</CompleteMultipartUploadResult>" % (escape(key), escape(o["etag"])),
            ctype="application/xml",
        )

    # ---- listings

    def list_objects(self, q, f):
        prefix = q.get("prefix", "")
        delim = q.get("delimiter", "")
        maxk = int(q.get("max-keys", "1000") or 1000)
        after = q.get("continuation-token", "")
        with LOCK:
            keys = sorted(k for k in OBJS if k.startswith(prefix))
            items = []
            seen = set()
            for k in keys:
                rest = k[len(prefix) :]
                if delim and delim in rest:
                    cp = prefix + rest[: rest.index(delim) + 1]
                    if cp in seen:
                        continue
                    seen.add(cp)
                    items.append((cp, None))
                else:
                    items.append((k, OBJS[k]))
        items = [it for it in items if it[0] > after]
        page, more = items[:maxk], len(items) > maxk
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>'
            "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>"
            "<MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>"
            % (BUCKET, escape(prefix), len(page), maxk, "true" if more else "false")
        ]
        if more:
            parts.append(
                "<NextContinuationToken>%s</NextContinuationToken>"
                % escape(page[-1][0])
            )
        for k, o in page:
            if o is None:
                parts.append(
                    "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(k)
                )
            else:
                parts.append(
                    "<Contents><Key>%s</Key><LastModified>%s</LastModified>"
                    "<ETag>%s</ETag><Size>%d</Size>"
                    "<StorageClass>STANDARD</StorageClass></Contents>"
                    % (escape(k), now_iso(o["mtime"]), escape(o["etag"]), len(o["data"]))
                )
        if f is not None and f["kind"] == "huge":
            pad = "<Owner><ID>%s</ID></Owner>" % ("0" * 1024)
            parts.append(pad * (5 * 1024 + 16))
        parts.append("</ListBucketResult>")
        return self.answer(200, "".join(parts), ctype="application/xml")

    def list_uploads(self, q):
        prefix = q.get("prefix", "")
        with LOCK:
            ups = [(u["key"], uid, u["started"]) for uid, u in UPLOADS.items()]
        body = "".join(
            "<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s"
            "</Initiated></Upload>" % (escape(k), uid, now_iso(t))
            for k, uid, t in sorted(ups)
            if k.startswith(prefix)
        )
        return self.answer(
            200,
            "<ListMultipartUploadsResult><Bucket>%s</Bucket>%s"
            "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"
            % (BUCKET, body),
            ctype="application/xml",
        )

    # ---- control

    def control(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        path = urllib.parse.unquote(u.path)
        data = self.body() if self.command in ("PUT", "POST") else b""
        if path == "/_ctl/fault" and self.command == "POST":
            f = {
                "method": q.get("method", "*"),
                "key": q.get("key", ""),
                "q": q.get("q", ""),
                "kind": q.get("kind", "error"),
                "count": int(q.get("count", "1")),
                "skip": int(q.get("skip", "0")),
                "code": q.get("code", ""),
                "status": int(q.get("status", "500")),
            }
            re.compile(f["key"])
            re.compile(f["q"])
            with LOCK:
                FAULTS.append(f)
            return self.answer(200, "ok\n")
        if path == "/_ctl/clear" and self.command == "POST":
            with LOCK:
                FAULTS.clear()
            return self.answer(200, "ok\n")
        if path == "/_ctl/keys":
            with LOCK:
                lines = ["%d %s\n" % (len(o["data"]), k) for k, o in sorted(OBJS.items())]
            return self.answer(200, "".join(lines))
        if path == "/_ctl/uploads":
            with LOCK:
                lines = ["%s %s\n" % (uid, u["key"]) for uid, u in sorted(UPLOADS.items())]
            return self.answer(200, "".join(lines))
        if path == "/_ctl/log":
            with LOCK:
                lines = [l + "\n" for l in REQLOG]
            return self.answer(200, "".join(lines))
        if path.startswith("/_ctl/obj/"):
            key = path[len("/_ctl/obj/") :]
            with LOCK:
                o = OBJS.get(key)
                if self.command == "PUT":
                    OBJS[key] = obj_new(data, o["meta"] if o else {})
            if self.command == "PUT":
                return self.answer(200, "ok\n")
            if o is None:
                return self.answer(404, "no such key\n")
            return self.answer(200, o["data"])
        return self.answer(404, "no such control\n")


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that resets a connection (ftxd refusing an answer
        # too long) is part of the tests, not news.
        pass


def main():
    global BUCKET
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bucket", default="bucket")
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    # SECURITY: loopback only, whatever the caller asks.
    if not (args.bind.startswith("127.") or args.bind == "::1"):
        sys.exit("fakes3: loopback addresses only")
    BUCKET = args.bucket
    srv = Server((args.bind, args.port), Handler)
    srv.daemon_threads = True
    timer = threading.Timer(args.lifetime, lambda: os._exit(3))
    timer.daemon = True
    timer.start()
    print("listening port=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
