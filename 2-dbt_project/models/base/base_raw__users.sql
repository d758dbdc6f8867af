with

source as (

    select
        *,
        {{ raw_row_id() }} as raw_row_id
    from {{ source('raw', 'users') }}

),

renamed as (

    select
        -- keys
        raw_row_id,
        id as user_id,

        -- attributes
        {{ clean_text(adapter.quote('fullName')) }} as full_name,
        {{ clean_text('email') }} as email,
        {{ clean_code('state') }} as user_state,
        {{ adapter.quote('isGovEmployee') }} as is_gov_employee,
        coalesce(deleted, false) as is_deleted,

        -- timestamps
        {{ adapter.quote('signupDate') }} as signed_up_date,
        {{ adapter.quote('updatedAt') }} as updated_at,

        -- metadata: defects found on this row
        {{ is_blank('state') }} as is_user_state_empty,
        {{ is_code_variant('state', 'valid_user_states') }} as is_user_state_variant

    from source

)

select * from renamed
