using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace NewsletterMigrator.Api;

/// <summary>
/// The OpenAPI document as plain records for the admin reference page: read from the same document the API serves, so
/// the page can never describe an API other than the one that runs. Schemas are listed once, referenced by name.
/// </summary>
public sealed class ApiReference(IServiceProvider services)
{
    public sealed record Field(string Name, string Type, bool Required, string Description);
    public sealed record Response(string Status, string Description, string? Schema);
    public sealed record Operation(string Method, string Path, string Summary, string Description, string? Scope, string? Tag,
        IReadOnlyList<Field> Parameters, string? RequestSchema, IReadOnlyList<Response> Responses);
    public sealed record Schema(string Name, IReadOnlyList<Field> Fields, IReadOnlyList<string> Values);
    public sealed record Document(string Title, string Description, IReadOnlyList<Operation> Operations, IReadOnlyList<Schema> Schemas);

    public async Task<Document> ReadAsync(CancellationToken ct = default)
    {
        var provider = services.GetRequiredKeyedService<IOpenApiDocumentProvider>(ApiOpenApi.DocumentName);
        var json = await (await provider.GetOpenApiDocumentAsync(ct)).SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, ct);
        using var parsed = JsonDocument.Parse(json);
        return Read(parsed.RootElement);
    }

    public static Document Read(JsonElement root)
    {
        var operations = new List<Operation>();
        foreach (var path in Children(root, "paths"))
        {
            foreach (var op in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Name != "parameters"))
            {
                var o = op.Value;
                var parameters = Items(o, "parameters").Select(p => new Field(Text(p, "name"), $"{TypeOf(Get(p, "schema"))} ({Text(p, "in")})",
                    Get(p, "required")?.ValueKind == JsonValueKind.True, Text(p, "description"))).ToList();
                var requestSchema = Children(Get(o, "requestBody"), "content").Select(c => TypeOf(Get(c.Value, "schema"))).FirstOrDefault();
                var responses = Children(o, "responses").Select(r => new Response(r.Name, Text(r.Value, "description"),
                    Children(r.Value, "content").Select(c => TypeOf(Get(c.Value, "schema"))).FirstOrDefault())).ToList();
                var scope = Get(o, ApiOpenApi.ScopeExtension)?.GetString();
                operations.Add(new Operation(op.Name.ToUpperInvariant(), path.Name, Text(o, "summary"), Text(o, "description"), scope,
                    Items(o, "tags").Select(t => t.GetString()).FirstOrDefault(), parameters, requestSchema, responses));
            }
        }
        var schemas = Children(Get(root, "components"), "schemas").Select(s => new Schema(s.Name,
            Children(s.Value, "properties").Select(p => new Field(p.Name, TypeOf(p.Value),
                Items(s.Value, "required").Any(r => r.GetString() == p.Name), Text(p.Value, "description"))).ToList(),
            Items(s.Value, "enum").Select(e => e.ToString()).ToList())).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        var info = Get(root, "info");
        return new Document(Text(info, "title"), Text(info, "description"), operations, schemas);
    }

    /// <summary>A schema in a few words: a referenced schema's name, "string (date-time)", "array of X", "integer | null".</summary>
    private static string TypeOf(JsonElement? schema)
    {
        if (schema is not { ValueKind: JsonValueKind.Object } s) return "";
        if (Get(s, "$ref")?.GetString() is { } reference) return reference[(reference.LastIndexOf('/') + 1)..];
        if (Get(s, "type") is { } type)
        {
            var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            var main = names.FirstOrDefault(n => n != "null") ?? "null";
            var text = main == "array" ? $"array of {TypeOf(Get(s, "items"))}" : Get(s, "format")?.GetString() is { } format ? $"{main} ({format})" : main;
            return names.Contains("null") ? text + " | null" : text;
        }
        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
            if (Items(s, combinator).ToList() is { Count: > 0 } options) return string.Join(" | ", options.Select(x => TypeOf(x)));
        return "object";
    }

    private static JsonElement? Get(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) ? value : null;

    private static string Text(JsonElement? element, string name) => Get(element, name)?.GetString() ?? "";

    private static IEnumerable<JsonProperty> Children(JsonElement? element, string name) =>
        Get(element, name) is { ValueKind: JsonValueKind.Object } child ? child.EnumerateObject() : [];

    private static IEnumerable<JsonElement> Items(JsonElement? element, string name) =>
        Get(element, name) is { ValueKind: JsonValueKind.Array } child ? child.EnumerateArray() : [];
}
