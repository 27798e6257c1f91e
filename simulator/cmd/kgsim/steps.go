package main

import (
	"fmt"

	"github.com/kgsim/kgsim/steps"
)

func stepsCommand() *command {
	return &command{
		name:    "steps",
		summary: "list the steps a merchant's own scenarios can use, with an example each",
		help: `Usage: kgsim steps

Prints the step vocabulary of kgsim's scenarios, by section: for each step
an example as a feature file writes it, then the regular expression its
text must match. A merchant's own .feature files (kgsim certify --features
DIR) use these steps, with the same tags and levels as kgsim's. The
keyword (Given, When, Then, And, But) does not choose the step: the text
does.

Example:
  kgsim steps | grep -i renew`,
		run: func(e *env, args []string) error {
			if _, err := newFlags().parse(args, 0, ""); err != nil {
				return err
			}
			section := ""
			for _, d := range steps.Vocabulary() {
				if d.Section != section {
					if section != "" {
						fmt.Fprintln(e.stdout)
					}
					section = d.Section
					fmt.Fprintln(e.stdout, section)
				}
				fmt.Fprintf(e.stdout, "  %s\n      %s\n", d.Example, d.Pattern)
			}
			return nil
		},
	}
}
