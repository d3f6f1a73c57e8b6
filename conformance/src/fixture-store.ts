/**
 * The fixture texts a browser fetched, read by the browser build of the
 * fixture loaders. Node reads the same files from disk instead.
 * @packageDocumentation
 */

/**
 * Every fixture file of the package, relative to its `fixtures/` folder (a test
 * checks this list against the folder, so a new generator output cannot be missed).
 */
export const CONFORMANCE_FIXTURE_FILES: readonly string[] = [
  'edges/activation.json',
  'edges/conv1d.json',
  'edges/conv2d.json',
  'edges/dense.json',
  'edges/globalMaxPooling1d.json',
  'edges/globalMaxPooling2d.json',
  'edges/leakyRelu.json',
  'edges/maxPooling1d.json',
  'edges/maxPooling2d.json',
  'golden/activation.json',
  'golden/add.json',
  'golden/average.json',
  'golden/averagePooling1d.json',
  'golden/averagePooling2d.json',
  'golden/batchNormalization.json',
  'golden/concatenate.json',
  'golden/conv1d.json',
  'golden/conv2d.json',
  'golden/conv2dTranspose.json',
  'golden/cropping2d.json',
  'golden/dense.json',
  'golden/depthwiseConv2d.json',
  'golden/dropout.json',
  'golden/flatten.json',
  'golden/globalAveragePooling1d.json',
  'golden/globalAveragePooling2d.json',
  'golden/globalMaxPooling1d.json',
  'golden/globalMaxPooling2d.json',
  'golden/layerNormalization.json',
  'golden/leakyRelu.json',
  'golden/maxPooling1d.json',
  'golden/maxPooling2d.json',
  'golden/maximum.json',
  'golden/minimum.json',
  'golden/multiply.json',
  'golden/reshape.json',
  'golden/separableConv2d.json',
  'golden/spatialDropout2d.json',
  'golden/subtract.json',
  'golden/upSampling1d.json',
  'golden/upSampling2d.json',
  'golden/zeroPadding2d.json',
  'graphs/graphs.json',
  'training/autoencoder-trajectory.json',
  'training/chains.json',
  'training/losses.json',
  'training/metrics.json',
  'training/optimizers.json',
  'training/regularizers.json',
  'training/schedules.json',
];

const texts = new Map<string, string>();

/** The fetched text of `fixtures/<relative>` (`location` is `fixtures/<relative>`); throws naming the file when it was not fetched. */
export function fetchedFixture(location: string): string {
  const text = texts.get(location);
  if (text === undefined) {
    throw new Error(`${location}: not fetched; call fetchConformanceFixtures(baseUrl) before building or running the conformance suite`);
  }
  return text;
}

/** Whether `location` (`fixtures/<relative>`) was fetched. */
export function hasFetchedFixture(location: string): boolean {
  return texts.has(location);
}

/**
 * Fetches every file of {@link CONFORMANCE_FIXTURE_FILES} from `baseUrl` (a
 * URL under which the package's `fixtures/` folder is served, e.g.
 * `https://example.org/conformance-fixtures/`), keeping their texts for the
 * suite. Call it once before {@link runBrowserConformance}; the files are
 * fetched in parallel.
 * @param fetchFile the fetch to use (default `globalThis.fetch`).
 * @throws Error naming the URL and the HTTP status of the first file that could not be fetched.
 */
export async function fetchConformanceFixtures(baseUrl: string | URL, fetchFile: typeof fetch = globalThis.fetch): Promise<void> {
  const base = new URL(String(baseUrl).endsWith('/') ? String(baseUrl) : `${String(baseUrl)}/`);
  const fetched = await Promise.all(
    CONFORMANCE_FIXTURE_FILES.map(async (file) => {
      const url = new URL(file, base);
      const response = await fetchFile(url);
      if (!response.ok) throw new Error(`conformance fixtures: GET ${url.href} answered ${response.status} ${response.statusText}`);
      return [file, await response.text()] as const;
    }),
  );
  for (const [file, text] of fetched) texts.set(`fixtures/${file}`, text);
}
