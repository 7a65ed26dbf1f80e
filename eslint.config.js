// ESLint for the page's scripts (`npm ci && npx eslint static/`, run by .ci/run). Our own code
// only: the vendored libraries in static/vendor are as their authors shipped them.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/vendor/**", "staticfiles/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {
        ...globals.browser,
        // From the classic scripts loaded before ours: Django's JS catalogue and the vendor UMDs.
        gettext: "readonly",
        interpolate: "readonly",
        marked: "readonly",
        DOMPurify: "readonly",
        hljs: "readonly",
        katex: "readonly",
      },
    },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "smart"],
      "prefer-const": "error",
    },
  },
  {
    // The small classic scripts (theme, language, time zone, conversation settings): no modules.
    files: [
      "static/chat/theme.js", "static/chat/language.js", "static/chat/timezone.js",
      "static/chat/conversation-settings.js",
    ],
    languageOptions: { sourceType: "script" },
  },
];
