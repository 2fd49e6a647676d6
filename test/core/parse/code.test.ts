import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { assertTextWithinLines, lineOf } from './support.js';

function outline(path: string, lines: string[]): [string[], number, number][] {
  const doc = parseDocument(path, lines.join('\n'));
  assertTextWithinLines(lines.join('\n'), doc);
  return doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]);
}

const CLIENT_TS = [
  '/*',
  ' * Copyright 2024 Halyard Inc.',
  ' * SPDX-License-Identifier: Apache-2.0',
  ' */',
  '/**',
  ' * Lumen TypeScript SDK: the HTTP client.',
  ' */',
  "import { createHash } from 'node:crypto';",
  '',
  '/** Options for {@link LumenClient}. */',
  'export interface LumenClientOptions {',
  '  /** API key ID. */',
  '  keyId?: string;',
  '}',
  '',
  '/**',
  ' * Sends events to Lumen.',
  ' *',
  ' * @example new LumenClient({ keyId })',
  ' */',
  '@Injectable()',
  'export class LumenClient {',
  '  // an ordinary comment is not documentation',
  '  private readonly queue: string[] = [];',
  '',
  '  /**',
  '   * Sends one batch.',
  '   * @param events the events to send',
  '   * @returns the number accepted',
  '   */',
  '  async sendBatch(events: string[]): Promise<number> {',
  '    /* inline block comment */',
  '    return events.length;',
  '  }',
  '}',
  '',
  '/** Creates a client from the environment. */',
  'export const fromEnv = (): LumenClient => new LumenClient();',
];

test('code (TypeScript): JSDoc sections named by declaration, license header skipped', () => {
  assert.deepEqual(outline('sdk/client.ts', CLIENT_TS), [
    [['client.ts'], 5, 7],
    [['client.ts', 'LumenClientOptions'], 10, 10],
    [['client.ts', 'LumenClientOptions.keyId'], 12, 12],
    [['client.ts', 'LumenClient'], 16, 20],
    [['client.ts', 'LumenClient.sendBatch'], 26, 30],
    [['client.ts', 'fromEnv'], 37, 37],
  ]);
  const doc = parseDocument('sdk/client.ts', CLIENT_TS.join('\n'));
  assert.equal(doc.title, 'client.ts');
  assert.equal(doc.sections[1]!.text, 'Options for LumenClient.');
  assert.equal(doc.sections[4]!.text, 'Sends one batch.\n@param events the events to send\n@returns the number accepted');
  const all = doc.sections.map((s) => s.text).join('\n');
  assert.doesNotMatch(all, /Copyright|ordinary comment|inline block/);
});

test('code (Rust): /// and //! runs', () => {
  const lines = [
    '//! Request signing for the Lumen gateway.',
    '//! Implements HMAC-SHA256.',
    '',
    'pub struct Signer {',
    '    /// Secret key bytes.',
    '    secret: Vec<u8>,',
    '}',
    '',
    'impl Signer {',
    '    /// Signs `payload`.',
    '    ///',
    '    /// Returns the hex digest.',
    '    #[must_use]',
    '    pub fn sign(&self, payload: &[u8]) -> String {',
    '        todo!()',
    '    }',
    '}',
    '//// four slashes is an ordinary comment',
    'fn helper() {}',
  ];
  assert.deepEqual(outline('src/signing.rs', lines), [
    [['signing.rs'], 1, 2],
    [['signing.rs', 'Signer.secret'], 5, 5],
    [['signing.rs', 'Signer.sign'], 10, 12],
  ]);
  assert.equal(parseDocument('signing.rs', lines.join('\n')).sections[2]!.text, 'Signs `payload`.\n\nReturns the hex digest.');
});

test('code (Go): comment runs directly above func, type and package', () => {
  const lines = [
    '// Package lumen is the Go SDK.',
    'package lumen',
    '',
    '// Client sends events.',
    '//',
    '//go:generate stringer -type=Client',
    'type Client struct{}',
    '',
    '// Send queues one event.',
    'func (c *Client) Send(e Event) error { return nil }',
    '',
    '// Detached comment, followed by a blank line.',
    '',
    'func orphan() {}',
    '',
    '// New makes a client.',
    'func New() *Client { return &Client{} }',
  ];
  assert.deepEqual(outline('sdk/go/client.go', lines), [
    [['client.go', 'lumen'], 1, 1],
    [['client.go', 'Client'], 4, 6],
    [['client.go', 'Client.Send'], 9, 9],
    [['client.go', 'New'], 16, 16],
  ]);
  assert.equal(parseDocument('client.go', lines.join('\n')).sections[1]!.text, 'Client sends events.');
});

test('code (Python): module, class and method docstrings', () => {
  const lines = [
    '#!/usr/bin/env python3',
    '# Copyright 2024 Halyard',
    '"""Reference implementation of Lumen request signing.',
    '',
    'Used by the gateway tests.',
    '"""',
    'import hmac',
    '',
    'QUERY = """',
    'def not_a_function():',
    "    return 'not code'",
    '"""',
    '',
    'class Signer(object):',
    "    '''Signs requests.'''",
    '',
    '    def sign(',
    '        self,',
    '        payload: bytes,',
    '    ) -> str:',
    '        """Return the signature.',
    '',
    '        Args:',
    '            payload: request body',
    '        """',
    '        return ""',
    '',
    'async def verify(header):',
    '    r"""Check a header."""',
    '    return True',
    '',
    'def undocumented():',
    '    return 1',
  ];
  assert.deepEqual(outline('sdk/signing.py', lines), [
    [['signing.py'], 3, 6],
    [['signing.py', 'Signer'], 15, 15],
    [['signing.py', 'Signer.sign'], lineOf(lines, '        """Return the signature.'), 25],
    [['signing.py', 'verify'], 29, 29],
  ]);
  const doc = parseDocument('signing.py', lines.join('\n'));
  assert.equal(doc.sections[0]!.text, 'Reference implementation of Lumen request signing.\n\nUsed by the gateway tests.');
  assert.equal(doc.sections[2]!.text, 'Return the signature.\n\nArgs:\n    payload: request body');
});

test('code (Ruby, shell): # runs directly above def / functions', () => {
  const ruby = [
    '# frozen_string_literal: true',
    '',
    'module Lumen',
    '  # A Lumen API client.',
    '  class Client',
    '    # Sends one event.',
    '    # Returns true on success.',
    '    def send_event(event)',
    '      true',
    '    end',
    '',
    '    # Builds a client from ENV.',
    '    def self.from_env',
    '    end',
    '  end',
    'end',
  ];
  assert.deepEqual(outline('lib/lumen/client.rb', ruby), [
    [['client.rb', 'Client'], 4, 4],
    [['client.rb', 'Client.send_event'], 6, 7],
    [['client.rb', 'Client.from_env'], 12, 12],
  ]);
  const shell = ['#!/bin/bash', '# Deploy script', 'set -e', '', '# Rolls out one service.', 'deploy_service() {', '  echo', '}', '', '# Waits.', 'function wait_ready {', '}'];
  assert.deepEqual(outline('ops/deploy.sh', shell), [
    [['deploy.sh', 'deploy_service'], 5, 5],
    [['deploy.sh', 'wait_ready'], 10, 10],
  ]);
});

test('code (Java, C#): Javadoc with annotations, /// XML docs', () => {
  const java = [
    'package com.halyard.lumen;',
    '',
    'public final class Batch {',
    '    /**',
    '     * Adds an event. See {@code Event#of}.',
    '     *',
    '     * @throws IllegalStateException when full',
    '     */',
    '    @Override',
    '    public synchronized void add(Event event) {}',
    '}',
  ];
  assert.deepEqual(outline('Batch.java', java), [[['Batch.java', 'Batch.add'], 4, 8]]);
  assert.equal(parseDocument('Batch.java', java.join('\n')).sections[0]!.text, 'Adds an event. See Event#of.\n\n@throws IllegalStateException when full');
  const csharp = ['namespace Lumen', '{', '    public class Client', '    {', '        /// <summary>Flushes the queue.</summary>', '        public Task FlushAsync() => Task.CompletedTask;', '    }', '}'];
  assert.deepEqual(outline('Client.cs', csharp), [[['Client.cs', 'Client.FlushAsync'], 5, 5]]);
});

test('code: files without doc comments, empty files and CRLF', () => {
  assert.deepEqual(parseDocument('x/empty.py', ''), { title: 'empty.py', sections: [] });
  assert.deepEqual(parseDocument('x/plain.js', '// just a comment\nconst a = 1;\n'), { title: 'plain.js', sections: [] });
  const crlf = parseDocument('sdk/client.ts', CLIENT_TS.join('\r\n'));
  assert.deepEqual(crlf, parseDocument('sdk/client.ts', CLIENT_TS.join('\n')));
});
