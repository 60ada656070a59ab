# bash completion for pea and every pea-NAME command.
#
# Commands and their long options are read from the installed binaries
# themselves (`pea` lists the commands, `pea-NAME --help` the options), so
# completion never falls behind the code.

_pea_dir() {
	local p
	p=$(type -P pea 2>/dev/null) || return 1
	dirname "$p"
}

_pea_options() { # COMMAND: the long options of pea-COMMAND
	local bin
	bin=$(type -P "pea-$1" 2>/dev/null) || return
	"$bin" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

_pea() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "${COMP_WORDS[0]##*/}" = pea ]; then
		if [ "$COMP_CWORD" -eq 1 ]; then
			local dir
			dir=$(_pea_dir) || return
			COMPREPLY=($(compgen -W "help $(cd "$dir" && ls pea-* 2>/dev/null | sed 's/^pea-//')" -- "$cur"))
			return
		fi
		cmd=${COMP_WORDS[1]}
		if [ "$cmd" = help ]; then
			local dir
			dir=$(_pea_dir) || return
			COMPREPLY=($(compgen -W "$(cd "$dir" && ls pea-* 2>/dev/null | sed 's/^pea-//')" -- "$cur"))
			return
		fi
	else
		cmd=${COMP_WORDS[0]##*/pea-}
		cmd=${cmd#pea-}
	fi
	case $prev in
	-o|--output|-m|--model|--init|--show|--names|--sign|--key|--verify|--warc-out|--state|--checkpoint)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_pea_options "$cmd")" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _pea pea
for _pea_c in $(cd "$(_pea_dir 2>/dev/null || echo /nonexistent)" 2>/dev/null && ls pea-* 2>/dev/null); do
	complete -o filenames -F _pea "$_pea_c"
done
unset _pea_c
