// ESLint flat config: typescript-eslint's recommended rules plus Pulumi's own rules, which need type
// information (they catch Outputs interpolated into template literals instead of pulumi.interpolate).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
    {
        ignores: [
            "bin/**",
            "**/dist/**",
            "node_modules/**",
            ".stryker-tmp/**",
            "reports/**",
            "eslint.config.mjs",
            "stryker.config.mjs",
            "stryker.unit.config.mjs",
        ],
    },
    ...tseslint.configs.recommended,
    // Plain CommonJS scripts that run before anything is compiled (tools/build.js).
    {
        files: ["**/*.js"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
);
