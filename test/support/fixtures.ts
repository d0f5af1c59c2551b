/**
 * The greeting prompt most tests run: two cases, ann (asserts "hello") and bob (asserts `bob`,
 * "bob" unless told), at lines 8 and 11. `provider` adds a provider line after the model.
 */
export function greetPrompt(opts: { name?: string; provider?: string; bob?: string } = {}): string {
  return `name: ${opts.name ?? 'greet'}
model: gpt-4o-mini${opts.provider ? `\nprovider: ${opts.provider}` : ''}
messages:
  - role: user
    content: "Say hello to {{ who }}"
suites:
  golden:
    cases:
      - name: ann
        vars: { who: Ann }
        assert: [{ type: icontains, value: hello }]
      - name: bob
        vars: { who: Bob }
        assert: [{ type: icontains, value: ${opts.bob ?? 'bob'} }]
`;
}
