# The HTTP front: what users reach. It talks to the API service over HTTP by
# its Compose service name; it knows nothing about the queue.
import json
import os
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = os.environ.get('API_URL', 'http://api:5000')


def call_api(method, path, body=None):
    req = urllib.request.Request(API + path, data=body, method=method, headers={'content-type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError as err:
        return 502, json.dumps({'error': 'api unreachable: %s' % err}).encode()


class Front(BaseHTTPRequestHandler):
    def reply(self, status, body, kind='application/json'):
        self.send_response(status)
        self.send_header('content-type', kind)
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == '/':
            self.reply(200, b'microservices front: POST /messages {"text": "..."}, GET /messages\n', 'text/plain')
        elif self.path == '/messages':
            self.reply(*call_api('GET', '/messages'))
        else:
            self.reply(404, b'{"error": "not found"}')

    def do_POST(self):
        if self.path != '/messages':
            return self.reply(404, b'{"error": "not found"}')
        body = self.rfile.read(int(self.headers.get('content-length') or 0))
        self.reply(*call_api('POST', '/messages', body))


if __name__ == '__main__':
    print('front: listening on :8080, API at %s' % API, flush=True)
    ThreadingHTTPServer(('0.0.0.0', 8080), Front).serve_forever()
