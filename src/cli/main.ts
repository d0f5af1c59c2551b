import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pkg from '../../package.json';
import { EXIT, type CliIO } from './io';
import { approveCommand, type ApproveOptions } from './approve-command';
import { diffCommand } from './diff-command';
import { exportCommand, type ExportOptions } from './export-command';
import { historyCommand, promoteCommand, publishCommand, pullCommand, registryDiffCommand, rollbackCommand, statusCommand } from './registry-command';
import { initCommand } from './init-command';
import type { Selection } from './select';
import { mergeCommand, type MergeOptions } from './merge-command';
import { reportCommand, type ReportOptions } from './report-command';
import { testCommand, type TestOptions } from './test-command';
import { validateCommand } from './validate-command';

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function usdArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('--budget must be a positive number of dollars');
  return n;
}

function samplesArg(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : positiveInt('--samples')(value);
}

/** Runs the CLI and returns its exit code: 0 all passed, 1 a case failed or errored, 2 invalid files or usage. */
export async function main(argv: string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name('promptgate')
    .description('Prompt regression testing: run golden and adversarial suites against prompt files and gate CI on the result.')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run promptgate --help for usage)');

  program
    .command('test')
    .description('run the suites of the prompt and suite files under PATHs (default: the current folder)')
    .argument('[paths...]', 'prompt files, suite files or folders')
    .option('-s, --suite <name>', 'run only this suite (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-g, --grep <pattern>', 'run only cases whose id or name matches this regular expression')
    .option('-c, --concurrency <n>', 'requests in flight at once (default: config or 8)', positiveInt('--concurrency'))
    .option('--samples <n|auto>', 'samples per case: a number, or auto to sample until the verdict is clear', samplesArg)
    .option('--no-cache', 'ignore and do not write the response cache')
    .option('--record', 'call the live provider and write every answer to the cassettes')
    .option('--replay', 'answer from recorded cassettes only; no network, no key')
    .option('--rejudge', 'grade the outputs of the latest run again (judges run, the model is not called)')
    .option('--model <name>', 'run every prompt with this model instead of its own')
    .option('--budget <usd>', 'refuse to start a run estimated above this many dollars, and stop when it is spent', usdArg)
    .option('--allow-python', 'run python assertions with python3 (their code runs with your permissions); without it their cases are skipped')
    .addOption(new Option('-r, --reporter <name>', 'what to print on stdout').choices(['text', 'json', 'github', 'markdown']).default('text'))
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json <file>', 'write a JSON report')
    .option('--markdown <file>', 'write a markdown summary (for a pull-request comment)')
    .option('--html <file>', 'write a self-contained HTML report with charts (for a CI artifact)')
    .option('--batch', "send the run's calls through the provider's Batch API (OpenAI, Azure OpenAI): half the price, answers within 24 h; a killed run resumes its batch")
    .option('--batch-poll <seconds>', 'with --batch: the first wait between status checks (default 5; then 1.5 times longer each time, up to 60)', positiveNumber('--batch-poll'))
    .option('--otel [endpoint]', 'export the run as OpenTelemetry traces over OTLP/HTTP (default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318)')
    .option('--no-otel', 'export no traces, even with OTEL_EXPORTER_OTLP_ENDPOINT set')
    .option('--shard <i/n>', 'run slice i of n (balanced by recorded time); `promptgate merge` joins the shards and decides the gate')
    .action(async (paths: string[], opts: TestOptions) => {
      code = await testCommand(io, paths, opts, signal);
    });

  program
    .command('merge')
    .description("join the run records of a sharded run (test --shard i/n) into one run: one report, one set of verdicts, one gate")
    .argument('<records...>', 'the shards\' run records, or folders holding them')
    .option('--project <path>', 'the project whose files the run used (default: the current folder)')
    .addOption(new Option('-r, --reporter <name>', 'what to print on stdout').choices(['text', 'json', 'github', 'markdown']).default('text'))
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json <file>', 'write a JSON report')
    .option('--markdown <file>', 'write a markdown summary')
    .action(async (records: string[], opts: MergeOptions) => {
      code = await mergeCommand(io, records, opts);
    });

  program
    .command('report')
    .description('write the reports of a recorded run (default: the newest) without running anything: judged against the current baselines')
    .argument('[paths...]', 'prompt files, suite files or folders (default: the current folder)')
    .option('--run <id>', 'the run: an id from .promptgate/runs, a unique prefix of one, or a record file (default: the newest)')
    .addOption(new Option('-r, --reporter <name>', 'what to print on stdout').choices(['text', 'json', 'github', 'markdown']))
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json <file>', 'write a JSON report')
    .option('--markdown <file>', 'write a markdown summary')
    .action(async (paths: string[], opts: ReportOptions) => {
      code = await reportCommand(io, paths, opts);
    });

  const repeatable = (v: string, prev: string[] = []) => [...prev, v];
  program
    .command('approve')
    .description('make the latest run of the selected cases their approved baseline (.promptgate/baselines)')
    .argument('[paths...]', 'prompt files, suite files or folders')
    .option('-s, --suite <name>', 'only this suite (repeatable)', repeatable)
    .option('--case <id>', 'only this case, by id or name (repeatable)', repeatable)
    .option('--top-up', 'first sample the cases whose latest run is too thin for a baseline, until it is strong enough')
    .option('--replay', 'with --top-up: answer from recorded cassettes only')
    .option('--budget <usd>', 'with --top-up: refuse to start above this many dollars, and stop when it is spent', usdArg)
    .action(async (paths: string[], opts: ApproveOptions) => {
      code = await approveCommand(io, paths, opts, signal);
    });

  program
    .command('diff')
    .description('show the approved baseline against the latest recorded run, without running anything; or, given NAME@A NAME@B, two registry versions')
    .argument('[paths...]', 'prompt files, suite files or folders')
    .option('-s, --suite <name>', 'only this suite (repeatable)', repeatable)
    .option('--case <id>', 'only this case, by id or name (repeatable)', repeatable)
    .option('--registry <where>', 'with NAME@A NAME@B: the registry to read')
    .action(async (paths: string[], opts: Selection & { registry?: string }) => {
      // Two registry references (NAME@3 NAME@production) compare versions; anything else is files.
      const refs = paths.length === 2 && paths.every((p) => /^[^/\\]+@[^/\\]+$/.test(p));
      code = refs ? await registryDiffCommand(io, paths[0], paths[1], opts) : await diffCommand(io, paths, opts);
    });

  program
    .command('validate')
    .description('check prompt and suite files without calling any model')
    .argument('[paths...]', 'prompt files, suite files or folders')
    .action(async (paths: string[]) => {
      code = await validateCommand(io, paths);
    });

  program
    .command('export')
    .description('write a prompt and its golden cases as a promptfoo configuration or a Prompty file')
    .argument('<prompt>', 'a NAME.prompt.yml or NAME.prompty file')
    .addOption(new Option('--to <format>', 'target format').choices(['promptfoo', 'prompty']).makeOptionMandatory())
    .option('-o, --out <file>', 'write here (atomically) instead of to stdout')
    .option('--force', 'replace --out if it exists')
    .action(async (prompt: string, opts: ExportOptions) => {
      code = await exportCommand(io, prompt, opts);
    });

  const registryOption = new Option('--registry <where>', 'a registry folder or git+URL (else PROMPTGATE_REGISTRY, else the config, default .promptgate/registry)');
  program
    .command('publish')
    .description('record the prompt as a registry version, with the evidence of its latest runs on this content')
    .argument('<prompt>', 'a prompt file')
    .addOption(registryOption)
    .option('-m, --message <text>', 'a note kept with the version')
    .action(async (prompt: string, opts) => {
      code = await publishCommand(io, prompt, opts);
    });
  program
    .command('promote')
    .description("publish if needed and move a label to this content, if it has the evidence the label's policy needs")
    .argument('<prompt>', 'a prompt file')
    .requiredOption('-l, --label <name>', 'staging, production or any label')
    .option('--force', 'move it without the evidence (needs --reason)')
    .option('--reason <text>', 'why, for the audit log')
    .option('-m, --message <text>', 'a note kept with a new version')
    .addOption(registryOption)
    .action(async (prompt: string, opts) => {
      code = await promoteCommand(io, prompt, opts);
    });
  program
    .command('rollback')
    .description('move a label back to the version it pointed at before')
    .argument('<prompt>', 'a prompt file or a registered name')
    .requiredOption('-l, --label <name>', 'the label')
    .addOption(registryOption)
    .action(async (prompt: string, opts) => {
      code = await rollbackCommand(io, prompt, opts);
    });
  program
    .command('history')
    .description('versions and label moves of a prompt')
    .argument('<prompt>', 'a prompt file or a registered name')
    .addOption(registryOption)
    .action(async (prompt: string, opts) => {
      code = await historyCommand(io, prompt, opts);
    });
  program
    .command('pull')
    .description('the version a reference names (NAME, NAME@3, NAME@production) as JSON')
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@LABEL')
    .option('-o, --out <file>', 'write it here (atomically)')
    .addOption(registryOption)
    .action(async (ref: string, opts) => {
      code = await pullCommand(io, ref, opts);
    });
  program
    .command('status')
    .description('which registry labels point at each prompt file\'s exact content, and which drifted from it')
    .argument('[paths...]', 'prompt files or folders (default: the project)')
    .option('-l, --label <name...>', 'only these labels (a missing one counts as drift)')
    .option('--fail-on-drift', 'exit 1 when a label points at other content (for CI)')
    .addOption(new Option('-r, --reporter <name>', 'what to print').choices(['text', 'github']).default('text'))
    .addOption(registryOption)
    .action(async (paths: string[], opts) => {
      code = await statusCommand(io, paths, opts);
    });

  program
    .command('init')
    .description('write a working example prompt, config and recorded answers')
    .argument('[dir]', 'where to write it', '.')
    .action(async (dir: string) => {
      code = await initCommand(io, dir);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.invalid;
    }
    throw err;
  }
  return code;
}
