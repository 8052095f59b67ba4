import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { managementApiTypes, TYPES_FILE } from '../../scripts/openapi-types.ts';

describe('the console\'s Management API client', () => {
  it('is typed by types generated from the OpenAPI document as it is now (run npm run openapi:types after changing an operation)', async () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(await managementApiTypes());
  });
});
