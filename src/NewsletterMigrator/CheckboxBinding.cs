using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace NewsletterMigrator;

/// <summary>
/// A checkbox posts "true" when ticked. Anything else a client may send ("on" from a checkbox without a value,
/// "1", "yes", garbage) means "not ticked" and is no model error: the built-in binder recorded it as an
/// attempted value that the re-rendered checkbox then failed to parse, which answered 500 (issue 13, point 5).
/// The field's own rule (e.g. "please tick the consent box") then speaks, in the user's language.
/// </summary>
public sealed class CheckboxBinderProvider : IModelBinderProvider
{
    private static readonly CheckboxBinder Binder = new();

    public IModelBinder? GetBinder(ModelBinderProviderContext context) =>
        context.Metadata.ModelType == typeof(bool) ? Binder : null;

    private sealed class CheckboxBinder : IModelBinder
    {
        public Task BindModelAsync(ModelBindingContext bindingContext)
        {
            var posted = bindingContext.ValueProvider.GetValue(bindingContext.ModelName);
            if (posted == ValueProviderResult.None) return Task.CompletedTask; // not sent: the property keeps its default
            var ticked = bool.TryParse(posted.FirstValue, out var value) && value;
            // The value the page shows again is the one understood, so re-rendering never meets a foreign string.
            bindingContext.ModelState.SetModelValue(bindingContext.ModelName, ticked, ticked ? "true" : "false");
            bindingContext.Result = ModelBindingResult.Success(ticked);
            return Task.CompletedTask;
        }
    }
}
