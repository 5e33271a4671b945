import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// What an editor shows on hover is the declaration's doc comment: every public export, and every
// property of every interface or object type a public export reaches, must have one.
const root = fileURLToPath(new URL('../../', import.meta.url));
const entryPoints = [
  'src/index.ts',
  'adapters/knex.ts',
  'adapters/kysely.ts',
  'adapters/umzug.ts',
  'src/testing/index.ts',
];

function createProgram(): ts.Program {
  const configPath = path.join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return ts.createProgram(
    entryPoints.map((file) => path.join(root, file)),
    parsed.options,
  );
}

/** True when the node carries a JSDoc block with a description (tags alone show little on hover). */
function hasDocComment(node: ts.Node): boolean {
  const holder = ts.isVariableDeclaration(node) ? node.parent.parent : node;
  return ts
    .getJSDocCommentsAndTags(holder)
    .some(
      (doc) => ts.isJSDoc(doc) && typeof doc.comment !== 'undefined' && ts.getTextOfJSDocComment(doc.comment) !== '',
    );
}

function isOurs(file: ts.SourceFile): boolean {
  return !file.isDeclarationFile && !path.relative(root, file.fileName).startsWith('node_modules');
}

function where(node: ts.Node): string {
  const file = node.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(node.getStart());
  return `${path.relative(root, file.fileName)}:${line + 1}`;
}

function memberName(member: ts.TypeElement): string {
  return member.name ? member.name.getText() : '(anonymous)';
}

function findUndocumented(): string[] {
  const program = createProgram();
  const checker = program.getTypeChecker();
  const offenders = new Set<string>();
  const seenDeclarations = new Set<ts.Node>();
  const queue: ts.Node[] = [];

  const enqueue = (declaration: ts.Node): void => {
    if (seenDeclarations.has(declaration) || !isOurs(declaration.getSourceFile())) return;
    seenDeclarations.add(declaration);
    queue.push(declaration);
  };

  const checkMembers = (owner: string, members: ts.NodeArray<ts.TypeElement>): void => {
    for (const member of members) {
      if (!ts.isPropertySignature(member) && !ts.isMethodSignature(member)) continue;
      if (!hasDocComment(member)) offenders.add(`${where(member)} property ${owner}.${memberName(member)}`);
    }
  };

  // A class's public fields, methods and constructor parameter properties (`readonly path: string`).
  const checkClassMembers = (owner: string, declaration: ts.ClassDeclaration): void => {
    const isPublic = (node: ts.Node): boolean =>
      !(
        ts.getCombinedModifierFlags(node as ts.Declaration) &
        (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
      ) &&
      !(ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) ? ts.isPrivateIdentifier(node.name) : false);
    for (const member of declaration.members) {
      const members: ts.NamedDeclaration[] = ts.isConstructorDeclaration(member)
        ? member.parameters.filter((parameter) => ts.isParameterPropertyDeclaration(parameter, member))
        : ts.isPropertyDeclaration(member) || ts.isMethodDeclaration(member) || ts.isGetAccessorDeclaration(member)
          ? [member]
          : [];
      for (const named of members) {
        if (isPublic(named) && !hasDocComment(named))
          offenders.add(`${where(named)} member ${owner}.${named.name?.getText()}`);
      }
    }
  };

  // Walks the public shape of a declaration (its types), never its bodies or initial values.
  const walkTypes = (node: ts.Node, owner: string): void => {
    if (ts.isBlock(node)) return;
    if (ts.isTypeLiteralNode(node)) checkMembers(owner, node.members);
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const name = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : node.expression;
      let symbol = checker.getSymbolAtLocation(name);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      for (const declaration of symbol?.declarations ?? []) {
        if (ts.isInterfaceDeclaration(declaration) || ts.isTypeAliasDeclaration(declaration)) enqueue(declaration);
      }
    }
    ts.forEachChild(node, (child) => {
      const parent = child.parent;
      const isValue =
        (ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isPropertyDeclaration(parent)) &&
        parent.initializer === child;
      const isBody =
        (ts.isArrowFunction(parent) || ts.isFunctionLike(parent)) && 'body' in parent && parent.body === child;
      if (!isValue && !isBody) walkTypes(child, owner);
    });
  };

  for (const entry of entryPoints) {
    const source = program.getSourceFile(path.join(root, entry));
    if (!source) throw new Error(`Entry point ${entry} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`Entry point ${entry} has no exports`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const declaration of target.declarations ?? []) {
        if (!isOurs(declaration.getSourceFile())) continue;
        // An overloaded function is documented once, on its first signature.
        const isLaterOverload = ts.isFunctionDeclaration(declaration) && target.declarations?.[0] !== declaration;
        if (!isLaterOverload && !hasDocComment(declaration)) {
          offenders.add(`${where(declaration)} export ${exported.name} (${ts.SyntaxKind[declaration.kind]})`);
        }
        enqueue(declaration);
      }
    }
  }

  while (queue.length > 0) {
    const declaration = queue.shift()!;
    const owner =
      ts.isInterfaceDeclaration(declaration) || ts.isTypeAliasDeclaration(declaration)
        ? declaration.name.text
        : ((declaration as ts.NamedDeclaration).name?.getText() ?? '(anonymous)');
    if (ts.isInterfaceDeclaration(declaration)) checkMembers(owner, declaration.members);
    if (ts.isClassDeclaration(declaration)) checkClassMembers(owner, declaration);
    walkTypes(declaration, owner);
  }
  return [...offenders].sort();
}

describe('doc comments on the public API', () => {
  it('documents every export and every property of the types the exports reach', () => {
    expect(findUndocumented(), 'each of these needs a /** doc comment */ (what it is, its default)').toEqual([]);
  }, 60_000);
});
