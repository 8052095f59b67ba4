/** A minimal browser over fetch, for flows that cross real servers: one cookie jar, manual redirects. */
export class FetchBrowser {
  private readonly cookies = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) this.cookies.set(name.trim(), value.join('='));
    }
    return res;
  }
  /** Follows redirects that stay on `origin`; returns the last response (a page, or a redirect elsewhere). */
  async follow(url: string, origin: string, init: RequestInit = {}): Promise<Response> {
    let res = await this.go(url, init);
    while (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') as string, url).toString();
      if (!next.startsWith(origin)) return res;
      url = next;
      res = await this.go(url);
    }
    return res;
  }
}

/** The hidden inputs of a page's form. */
export const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
/** The action of a page's first form. */
export const actionOf = (html: string) => (/<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? '').replaceAll('&amp;', '&');
