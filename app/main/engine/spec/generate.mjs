// Regenerates engine-api.ts, the Engine API types the client is written against.
// The Docker spec is Swagger 2.0 and openapi-typescript reads only OpenAPI 3, so it is
// converted first with swagger2openapi (in memory), then typed. Run: node app/main/engine/spec/generate.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import yaml from 'js-yaml';
import converter from 'swagger2openapi';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const specPath = process.argv[2] ?? path.resolve(here, '../../../../../shared/reference/docker-engine-api-v1.51.yaml');
const swagger = yaml.load(await readFile(specPath, 'utf8'));
const { openapi } = await converter.convertObj(swagger, { patch: true, warnOnly: true });
// defaultNonNullable: false — a field with a default (HostConfig.Memory: 0) is still optional to send.
const ast = await openapiTS(openapi, { alphabetize: false, defaultNonNullable: false });
const header = `// Generated from ${path.basename(specPath)} by generate.mjs (swagger2openapi + openapi-typescript). Do not edit.\n`;
await writeFile(path.join(here, 'engine-api.ts'), header + astToString(ast));
console.log('wrote engine-api.ts');
