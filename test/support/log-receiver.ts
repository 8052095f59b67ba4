import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogEvent } from '../../src/domain/model.ts';

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A log stream's receiver on loopback: it records every request and answers with the status `respond` gives. */
export class LogReceiver {
  readonly deliveries: Delivery[] = [];
  respond: () => number = () => 200;
  private server!: Server;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.deliveries.push({ headers: req.headers, body });
        res.writeHead(this.respond()).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/logs`;
    return this;
  }
  /** Every delivered event, in order, from JSON arrays, JSON lines or JSON objects alike. */
  events(): { log_id: string; data: LogEvent }[] {
    return this.deliveries.flatMap(({ body }) => {
      const text = body.trim();
      if (text.startsWith('[')) return JSON.parse(text);
      return text.split('\n').map((line) => JSON.parse(line));
    });
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
