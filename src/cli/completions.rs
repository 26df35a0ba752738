//! Shell completion scripts: clap's, plus (for bash and fish) stream ids read from the
//! store named on the command line through the hidden `__streams` command.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Cli;

/// Commands whose second word is a stream id (after STORE).
const STREAM_SECOND: &[&str] = &["state", "diff"];
/// Commands with a `--stream ID` option.
const STREAM_OPTION: &[&str] = &["events", "snapshots"];

pub fn print(shell: Shell) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "eventscope", &mut out);
    let mut script = String::from_utf8_lossy(&out).into_owned();
    match shell {
        Shell::Bash => script.push_str(&bash()),
        Shell::Fish => script.push_str(&fish()),
        _ => {}
    }
    print!("{script}");
    Ok(())
}

fn bash() -> String {
    format!(
        r#"
# Stream ids from the store on the command line.
eval "$(declare -f _eventscope | sed '1s/_eventscope/_eventscope_clap/')"
_eventscope() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local sub="${{COMP_WORDS[1]}}" store="${{COMP_WORDS[2]}}"
    case "$sub" in
        {second})
            if [[ $COMP_CWORD -eq 3 && $cur != -* ]]; then
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(eventscope __streams "$store" 2>/dev/null)" -- "$cur"))
                return 0
            fi ;;
        {option})
            if [[ $prev == --stream ]]; then
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(eventscope __streams "$store" 2>/dev/null)" -- "$cur"))
                return 0
            fi ;;
    esac
    _eventscope_clap "$@"
}}
"#,
        second = STREAM_SECOND.join("|"),
        option = STREAM_OPTION.join("|"),
    )
}

fn fish() -> String {
    let mut s = String::from("\n# Stream ids from the store on the command line.\n");
    s.push_str(
        "function __eventscope_streams\n    set -l words (commandline -opc)\n    eventscope __streams $words[3] 2>/dev/null\nend\n",
    );
    for sub in STREAM_SECOND {
        s.push_str(&format!(
            "complete -c eventscope -n '__fish_seen_subcommand_from {sub}; and test (count (commandline -opc)) -eq 3' -f -a '(__eventscope_streams)'\n"
        ));
    }
    for sub in STREAM_OPTION {
        s.push_str(&format!(
            "complete -c eventscope -n '__fish_seen_subcommand_from {sub}; and __fish_prev_arg_in --stream' -f -a '(__eventscope_streams)'\n"
        ));
    }
    s
}
