package localstack

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StateMachine is an Amazon States Language definition with ${name}
// placeholders, as SAM's DefinitionSubstitutions fill them in.
type StateMachine struct {
	Name       string
	Definition []byte
	// FunctionARN names the placeholder for the function's ARN: the stack
	// fills it in with the ARN its router answers to, in the region the
	// state machine is created in.
	FunctionARN string
	// Values fill in every other placeholder.
	Values map[string]string
}

// stateMachineDecl is what the stack reads of the template's state machine.
type stateMachineDecl struct {
	Type       string `yaml:"Type"`
	Properties struct {
		DefinitionURI           string               `yaml:"DefinitionUri"`
		DefinitionSubstitutions map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
	} `yaml:"Properties"`
}

func (d stateMachineDecl) resourceType() string { return d.Type }

// TemplateStateMachine is the state machine template.yaml declares: the
// file its DefinitionUri names, and its DefinitionSubstitutions. The one
// that is the function's ARN (!GetAtt of a function's Arn) the stack fills
// in; values must give every other one, by the template's names, and no
// name the template does not have, so that the definition executed is the
// one deployed, with test values where the template has parameters.
func (s *Stack) TemplateStateMachine(values map[string]string) (StateMachine, error) {
	return templateStateMachine(s.opts.Template, values)
}

func templateStateMachine(template string, values map[string]string) (StateMachine, error) {
	decl, err := templateResource[stateMachineDecl](template, "AWS::Serverless::StateMachine")
	if err != nil {
		return StateMachine{}, err
	}
	types, err := resourceTypes(template)
	if err != nil {
		return StateMachine{}, err
	}
	sm := StateMachine{Name: strings.TrimSuffix(filepath.Base(decl.Properties.DefinitionURI), ".asl.json"), Values: values}
	for name, node := range decl.Properties.DefinitionSubstitutions {
		if types[getAttArn(node)] == "AWS::Serverless::Function" {
			sm.FunctionARN = name
		} else if _, ok := values[name]; !ok {
			return StateMachine{}, fmt.Errorf("%s: the state machine's DefinitionSubstitutions has %s: give it a value", template, name)
		}
	}
	for name := range values {
		if _, ok := decl.Properties.DefinitionSubstitutions[name]; !ok || name == sm.FunctionARN {
			return StateMachine{}, fmt.Errorf("%s: the state machine's DefinitionSubstitutions has no %s to give a value", template, name)
		}
	}
	sm.Definition, err = os.ReadFile(filepath.Join(filepath.Dir(template), decl.Properties.DefinitionURI))
	if err != nil {
		return StateMachine{}, fmt.Errorf("%s: DefinitionUri: %w", template, err)
	}
	return sm, nil
}

// getAttArn returns X of "!GetAtt X.Arn" (or "!GetAtt [X, Arn]"), else "".
func getAttArn(n yaml.Node) string {
	if n.Tag != "!GetAtt" {
		return ""
	}
	if n.Kind == yaml.SequenceNode && len(n.Content) == 2 && n.Content[1].Value == "Arn" {
		return n.Content[0].Value
	}
	name, ok := strings.CutSuffix(n.Value, ".Arn")
	if !ok {
		return ""
	}
	return name
}

// resourceTypes maps the template's resources to their types.
func resourceTypes(template string) (map[string]string, error) {
	b, err := os.ReadFile(template)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", template, err)
	}
	types := map[string]string{}
	for name, r := range doc.Resources {
		types[name] = r.Type
	}
	return types, nil
}

// placeholder is ${name} in a definition, as DefinitionSubstitutions has it.
var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitute fills in the definition's placeholders. A placeholder without
// a value, or a value without a placeholder, is an error: either would be a
// definition that is not the one meant.
func (sm StateMachine) substitute(functionARN string) ([]byte, error) {
	values := maps.Clone(sm.Values)
	if values == nil {
		values = map[string]string{}
	}
	if sm.FunctionARN != "" {
		values[sm.FunctionARN] = functionARN
	}
	var missing []string
	used := map[string]bool{}
	out := placeholder.ReplaceAllFunc(sm.Definition, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		used[name] = true
		return []byte(v)
	})
	for name := range values {
		if !used[name] {
			missing = append(missing, "(unused) "+name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("state machine %s: placeholders without a value or values without a placeholder: %s",
			sm.Name, strings.Join(slices.Compact(missing), ", "))
	}
	return out, nil
}
