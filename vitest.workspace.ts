/**
 * The test projects of the monorepo: one per package. The root `vitest.config.ts`
 * imports this list (vitest 3.2 deprecates picking the workspace file up by itself).
 */
const projects: Array<string> = ["packages/*"]

export default projects
