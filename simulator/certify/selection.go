package certify

import (
	"cmp"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// tagFilter combines the user's tag expression with the tags the
// vocabulary excludes into one godog filter. godog's filters are a disjunction
// (",") of conjunctions ("&&") of tags, "~" negating one, so the
// exclusions are added to every clause.
func tagFilter(excluded []string, user string) (string, error) {
	var not []string
	for _, tag := range excluded {
		not = append(not, "~"+tag)
	}
	always := strings.Join(not, " && ")
	clauses, err := parseTags(user)
	if err != nil {
		return "", err
	}
	if len(clauses) == 0 || always == "" {
		return cmp.Or(strings.Join(clauses, ", "), always), nil
	}
	for i, c := range clauses {
		clauses[i] = c + " && " + always
	}
	return strings.Join(clauses, ", "), nil
}

// parseTags checks a tag expression in godog's syntax and returns its
// clauses normalised ("@a && ~@b"). godog itself does not check it: an
// empty term makes it panic and "@a and not @b" silently matches nothing.
func parseTags(expr string) ([]string, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	var clauses []string
	for clause := range strings.SplitSeq(expr, ",") {
		var terms []string
		for term := range strings.SplitSeq(clause, "&&") {
			term = strings.TrimSpace(term)
			neg := strings.HasPrefix(term, "~")
			name := strings.TrimPrefix(strings.TrimPrefix(term, "~"), "@")
			if name == "" || strings.ContainsAny(name, " \t~@&|,()!") {
				return nil, simulator.Errorf(simulator.EINVALID, "tags", "%q: want tags joined by && (and) and , (or), ~ negating one, e.g. \"@required && ~@retries\"", expr)
			}
			if neg {
				name = "~@" + name
			} else {
				name = "@" + name
			}
			terms = append(terms, name)
		}
		clauses = append(clauses, strings.Join(terms, " && "))
	}
	return clauses, nil
}
