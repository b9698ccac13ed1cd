# The worker: consumes the "tasks" queue, does the work (upper-cases the text),
# logs it and reports the result to the API over HTTP.
import json
import os
import socket
import time
import urllib.request

import pika

AMQP_HOST = os.environ.get('AMQP_HOST', 'rabbitmq')
API = os.environ.get('API_URL', 'http://api:5000')
QUEUE = 'tasks'
NAME = socket.gethostname()


def connect():
    # RabbitMQ may still be starting when the worker does: retry for a while.
    for attempt in range(60):
        try:
            return pika.BlockingConnection(pika.ConnectionParameters(host=AMQP_HOST))
        except pika.exceptions.AMQPConnectionError:
            time.sleep(1)
    raise SystemExit('worker: no RabbitMQ at %s' % AMQP_HOST)


def handle(ch, method, _props, body):
    text = body.decode()
    result = text.upper()
    print('worker: processed %r -> %r' % (text, result), flush=True)
    report = json.dumps({'text': text, 'result': result, 'worker': NAME}).encode()
    req = urllib.request.Request(API + '/processed', data=report, method='POST', headers={'content-type': 'application/json'})
    urllib.request.urlopen(req, timeout=10).close()
    ch.basic_ack(delivery_tag=method.delivery_tag)


if __name__ == '__main__':
    conn = connect()
    ch = conn.channel()
    ch.queue_declare(queue=QUEUE, durable=True)
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(queue=QUEUE, on_message_callback=handle)
    print('worker: waiting for messages on %s' % QUEUE, flush=True)
    ch.start_consuming()
