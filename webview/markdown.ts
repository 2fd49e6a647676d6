/**
 * Answer text → safe HTML. markdown-it with `html: false` escapes every tag the model writes
 * (there is no raw-HTML path left to sanitize), and its validateLink refuses javascript:,
 * vbscript:, file: and data: URLs except images; we additionally drop every link target
 * except http(s), since a webview must not navigate anywhere. highlight.js (core plus a few
 * languages, to keep the bundle small) emits only escaped text inside class-named spans.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

const LANGUAGES = { bash, css, go, ini, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' });
hljs.registerAliases(['js'], { languageName: 'javascript' });
hljs.registerAliases(['ts'], { languageName: 'typescript' });
hljs.registerAliases(['html'], { languageName: 'xml' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['toml'], { languageName: 'ini' });
hljs.registerAliases(['psql', 'pgsql'], { languageName: 'sql' });

const markdown: MarkdownIt = new MarkdownIt({
  html: false,
  linkify: false,
  breaks: false,
  highlight: (code, language) => {
    if (language && hljs.getLanguage(language)) return hljs.highlight(code, { language, ignoreIllegals: true }).value;
    return '';
  },
});

const defaultValidateLink = markdown.validateLink.bind(markdown);
markdown.validateLink = (url: string) => defaultValidateLink(url) && /^https?:\/\//i.test(url.trim());

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
