// A chat model for the e2e suite: it answers from the first numbered source in the prompt, citing it
// as [1], so a test can tell that Docent's prompt (with its sources) reached the model and that the
// model's text streamed back. It records what it was asked in its exports.
const vscode = require('vscode');

// isDefault and isUserSelectable (read by VS Code 1.104 though still in the chatProvider proposal), as
// Copilot's default model sets them: a chat request with no model picked in the Chat view runs on the
// default model, and 1.104's extension host looks for one without end when no model is marked default
// (getDefaultLanguageModel retries itself), so no participant's handler would ever be called.
const MODEL = {
  id: 'docent-test-model',
  name: 'Docent test model',
  family: 'docent-test',
  version: '1',
  maxInputTokens: 100000,
  maxOutputTokens: 2000,
  capabilities: {},
  isDefault: true,
  isUserSelectable: true,
};

const textOf = (message) => message.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');

exports.activate = function activate(context) {
  const requests = [];
  context.subscriptions.push(
    vscode.lm.registerLanguageModelChatProvider('docent-test', {
      provideLanguageModelChatInformation: () => [MODEL],
      provideTokenCount: (_model, text) => Math.ceil((typeof text === 'string' ? text : JSON.stringify(text)).length / 4),
      async provideLanguageModelChatResponse(_model, messages, _options, progress) {
        const prompt = messages.map(textOf).join('\n');
        requests.push(prompt);
        // A request without sources is Docent's follow-up rewrite: the last message, the question, stands alone as it is.
        if (!prompt.includes('<source n="1">')) {
          progress.report(new vscode.LanguageModelTextPart(textOf(messages.at(-1))));
          return;
        }
        // Source [1]'s label, the line above its quote (earlier turns' answers in the history cite [1] too).
        const source = /\[1\] ([^\n]+)\n<source n="1">/.exec(prompt);
        // An editor selection in the prompt (Explain): its file and first line, so a test sees it reached the model.
        const selection = /Selected in the editor \(([^,]+),[^)]*\):\n<selection>\n([^\n]*)/.exec(prompt);
        const explained = selection ? ` and the selection from ${selection[1]} starting "${selection[2]}"` : '';
        for (const text of ['The test model read ', source ? `the source ${source[1]}` : 'no sources', explained, ' and answers from it [1].']) {
          progress.report(new vscode.LanguageModelTextPart(text));
        }
      },
    }),
  );
  // The default participant only makes the workbench show its Chat view (see package.json); it never answers Docent's questions.
  context.subscriptions.push(vscode.chat.createChatParticipant('docent-test.default', (_request, _context, stream) => stream.markdown('Ask @docent.')));
  return { requests };
};
