import effectPlugin from "@effect/eslint-plugin"
import tsPlugin from "@typescript-eslint/eslint-plugin"
import tsParser from "@typescript-eslint/parser"

export default [
  {
    ignores: [
      "packages/node/examples/docs/**",
      "**/node_modules/**",
      "**/build/**",
      "**/dist/**",
      "**/.bundle/**",
      "**/*.d.ts",
      ".cos-data/**",
      "**/.bench-tmp/**"
    ]
  },
  {
    files: ["**/*.ts", "**/*.mjs"],
    languageOptions: {
      parser: tsParser,
      ecmaVersion: 2022,
      sourceType: "module"
    },
    plugins: {
      "@effect": effectPlugin,
      "@typescript-eslint": tsPlugin
    },
    rules: {
      ...tsPlugin.configs["eslint-recommended"].overrides[0].rules,
      ...tsPlugin.configs.recommended.rules,
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@effect/no-import-from-barrel-package": ["error", {
        packageNames: ["effect", "@effect/platform", "@effect/platform-node", "@effect/sql", "@effect/cli"]
      }],
      "@typescript-eslint/array-type": ["warn", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "warn",
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_",
        varsIgnorePattern: "^_",
        caughtErrorsIgnorePattern: "^_"
      }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "object-shorthand": "error",
      "no-console": "error"
    }
  },
  {
    files: [
      "packages/cli/src/**/*.ts",
      "packages/emulator/src/bin.ts",
      "scripts/**/*.mjs",
      "packages/*/bench/**/*.{ts,mjs}",
      "packages/*/test/fixtures/**/*.{ts,mjs}",
      "packages/*/native/**/*.mjs"
    ],
    rules: { "no-console": "off" }
  }
]
