# The API service: puts each new message on the RabbitMQ queue "tasks", and
# keeps the results the worker reports back, which GET /messages lists.
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pika

AMQP_HOST = os.environ.get('AMQP_HOST', 'rabbitmq')
QUEUE = 'tasks'
results = []
lock = threading.Lock()


def connect():
    # RabbitMQ can be restarting (or still opening its listener): retry a little.
    for attempt in range(20):
        try:
            return pika.BlockingConnection(pika.ConnectionParameters(host=AMQP_HOST))
        except pika.exceptions.AMQPConnectionError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def publish(text):
    # One connection per message keeps this small; pika's BlockingConnection
    # is not shared between the server's threads.
    conn = connect()
    try:
        ch = conn.channel()
        ch.queue_declare(queue=QUEUE, durable=True)
        ch.basic_publish(exchange='', routing_key=QUEUE, body=text.encode(),
                         properties=pika.BasicProperties(delivery_mode=2))
    finally:
        conn.close()


class Api(BaseHTTPRequestHandler):
    def reply(self, status, obj):
        body = (json.dumps(obj) + '\n').encode()
        self.send_response(status)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        raw = self.rfile.read(int(self.headers.get('content-length') or 0))
        try:
            return json.loads(raw or b'{}')
        except ValueError:
            return None

    def do_GET(self):
        if self.path == '/messages':
            with lock:
                return self.reply(200, list(results))
        self.reply(404, {'error': 'not found'})

    def do_POST(self):
        msg = self.body()
        if not isinstance(msg, dict) or not isinstance(msg.get('text'), str) or not msg['text']:
            return self.reply(400, {'error': 'send {"text": "..."}'})
        if self.path == '/messages':
            publish(msg['text'])
            print('api: queued %r' % msg['text'], flush=True)
            return self.reply(202, {'queued': msg['text']})
        if self.path == '/processed':
            with lock:
                results.append({'text': msg['text'], 'result': msg.get('result'), 'worker': msg.get('worker')})
            return self.reply(201, {'stored': msg['text']})
        self.reply(404, {'error': 'not found'})


if __name__ == '__main__':
    print('api: listening on :5000, queue %s on %s' % (QUEUE, AMQP_HOST), flush=True)
    ThreadingHTTPServer(('0.0.0.0', 5000), Api).serve_forever()
