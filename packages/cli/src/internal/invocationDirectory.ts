/**
 * `pnpm cos …` and `pnpm demo` (the root scripts) run the CLI in `packages/cli`; relative paths should mean the
 * directory the command was typed in, which pnpm passes as `INIT_CWD`. Only for this package's own scripts: a
 * script of another package that runs `cos` keeps its own working directory.
 *
 * @internal
 */
export const adopt = (): void => {
  const initCwd = process.env["INIT_CWD"]
  if (process.env["npm_package_name"] === "@cos-v4/cli" && initCwd !== undefined && initCwd !== "") {
    process.chdir(initCwd)
  }
}
