/** For tests that build an app (nodes/http/app.ts) themselves: one made-up secret, its admin token and header. */
import { adminHeaders, adminToken } from './admin-auth.js';

export const TEST_SECRET = 'test-cluster-secret';
export const testAdminToken = adminToken(TEST_SECRET);
export const testAdmin = adminHeaders(TEST_SECRET);
