// `npm run check:layers`: fails when an import crosses a boundary of the layout (ARCHITECTURE.md).
// Every import, re-export, import() and require() of src/ and webview/ is read with the
// TypeScript parser and checked against the rules below; each violation is printed as
// file:line, the import and the rule it breaks.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where a repository-relative path belongs. */
function layerOf(file) {
  if (file.startsWith('src/extension/coreProcess/')) return 'coreProcess';
  for (const layer of ['core', 'shared', 'build', 'cli', 'extension', 'generation']) if (file.startsWith(`src/${layer}/`)) return layer;
  if (file.startsWith('webview/')) return 'webview';
  if (file.startsWith('test/')) return 'test';
  if (file.startsWith('bench/')) return 'bench';
  return 'other';
}

const isNodeBuiltin = (specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);

/**
 * The rules: for an importing layer, which imports are allowed. `target` is the imported file's
 * layer for a relative import, or 'vscode' / 'node' / 'package' for a bare one; `typeOnly` is true
 * for imports erased at compile time.
 */
const RULES = [
  {
    name: 'src/core never imports vscode, a shell (cli, extension, generation), the webview side, build-time code, tests or benchmarks',
    applies: (layer) => layer === 'core',
    allowed: ({ target }) => target === 'core' || target === 'node' || target === 'package',
  },
  {
    name: 'src/shared (bundled into the browser) imports neither Node built-ins nor vscode, and src/core only for types',
    applies: (layer) => layer === 'shared',
    allowed: ({ target, typeOnly }) => target === 'shared' || target === 'package' || (target === 'core' && typeOnly),
  },
  {
    name: 'webview/ imports only webview/, src/shared and browser packages',
    applies: (layer) => layer === 'webview',
    allowed: ({ target }) => target === 'webview' || target === 'shared' || target === 'package',
  },
  {
    name: 'src/extension/coreProcess runs in a plain Node child process: no vscode, only src/core, src/shared and itself',
    applies: (layer) => layer === 'coreProcess',
    allowed: ({ target }) => ['coreProcess', 'core', 'shared', 'node', 'package'].includes(target),
  },
  {
    name: 'front ends import src/core, src/shared and their own folder, not each other (the CLI may start the generation server)',
    applies: (layer) => ['cli', 'extension', 'generation'].includes(layer),
    allowed: ({ layer, target }) =>
      !['cli', 'extension', 'coreProcess', 'generation'].includes(target) || target === layer || (layer === 'extension' && target === 'coreProcess') || (layer === 'cli' && target === 'generation'),
  },
  {
    name: 'src/ never imports test/ or bench/',
    applies: (layer) => !['test', 'bench', 'other'].includes(layer),
    allowed: ({ target }) => target !== 'test' && target !== 'bench',
  },
  {
    name: 'src/build (build-time ONNX builders) is imported only by scripts, tests and itself',
    applies: (layer) => !['build', 'test', 'bench', 'other'].includes(layer),
    allowed: ({ target }) => target !== 'build',
  },
];

function sourceFiles(dir) {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const relative = `${dir}/${name}`;
    if (statSync(path.join(root, relative)).isDirectory()) return sourceFiles(relative);
    return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [relative] : [];
  });
}

/** Every module a file imports, with whether the import is erased at compile time. */
function importsOf(file) {
  const text = readFileSync(path.join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node, specifier, typeOnly) => found.push({ specifier, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const elements = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : [];
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && elements.length > 0 && elements.every((element) => element.isTypeOnly)));
      add(node, node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node, node.moduleReference.expression.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) add(node, node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function targetOf(file, specifier) {
  if (specifier === 'vscode') return 'vscode';
  if (!specifier.startsWith('.')) return isNodeBuiltin(specifier) ? 'node' : 'package';
  return layerOf(path.relative(root, path.resolve(root, path.dirname(file), specifier)).split(path.sep).join('/'));
}

const files = [...sourceFiles('src'), ...sourceFiles('webview')];
const violations = [];
let imports = 0;
for (const file of files) {
  const layer = layerOf(file);
  for (const { specifier, typeOnly, line } of importsOf(file)) {
    imports++;
    const target = targetOf(file, specifier);
    for (const rule of RULES) {
      if (rule.applies(layer) && !rule.allowed({ layer, target, typeOnly })) violations.push(`${file}:${line} imports '${specifier}'${typeOnly ? ' (type only)' : ''}: ${rule.name}`);
    }
  }
}
if (violations.length > 0) {
  console.error(`check:layers: ${violations.length} violation${violations.length === 1 ? '' : 's'}\n${violations.map((line) => `  ${line}`).join('\n')}`);
  process.exit(1);
}
console.log(`check:layers: ${files.length} files, ${imports} imports, no violations of the ${RULES.length} rules`);
