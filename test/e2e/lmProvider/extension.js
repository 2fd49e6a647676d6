// A chat model for the e2e suite: it answers from the first numbered source in the prompt, citing it
// as [1], so a test can tell that Docent's prompt (with its sources) reached the model and that the
// model's text streamed back. It records what it was asked in its exports.
const vscode = require('vscode');

const MODEL = { id: 'docent-test-model', name: 'Docent test model', family: 'docent-test', version: '1', maxInputTokens: 100000, maxOutputTokens: 2000, capabilities: {} };

exports.activate = function activate(context) {
  const requests = [];
  context.subscriptions.push(
    vscode.lm.registerLanguageModelChatProvider('docent-test', {
      provideLanguageModelChatInformation: () => [MODEL],
      provideTokenCount: (_model, text) => Math.ceil((typeof text === 'string' ? text : JSON.stringify(text)).length / 4),
      async provideLanguageModelChatResponse(_model, messages, _options, progress) {
        const prompt = messages.map((message) => message.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('')).join('\n');
        requests.push(prompt);
        const source = /\[1\] ([^\n]+)/.exec(prompt);
        for (const text of ['The test model read ', source ? `the source ${source[1]}` : 'no sources', ' and answers from it [1].']) {
          progress.report(new vscode.LanguageModelTextPart(text));
        }
      },
    }),
  );
  // The default participant only makes the workbench show its Chat view (see package.json); it never answers Docent's questions.
  context.subscriptions.push(vscode.chat.createChatParticipant('docent-test.default', (_request, _context, stream) => stream.markdown('Ask @docent.')));
  return { requests };
};
